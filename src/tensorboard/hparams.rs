//! The HParams plugin's records, which its dashboard tabulates: the experiment (hyperparameter
//! names and the metric tags to show), each run's session start (its values) and end (its
//! status). Messages from tensorboard's `plugins/hparams/api.proto` and `plugin_data.proto`;
//! the tags and the empty float tensor that carries them from `plugins/hparams/metadata.py`.
//! The dashboard reads them from each tag's summary metadata, of which readers keep the first
//! they see per run: each record is written once per run (see `Writer`).

use std::collections::BTreeMap;

use prost::{Enumeration, Message, Oneof};
use prost_types::{ListValue, value::Kind};

use super::proto::{
    DataType, Dim, PluginData, SummaryMetadata, SummaryValue, TensorProto, TensorShapeProto, Value,
};

pub const EXPERIMENT_TAG: &str = "_hparams_/experiment";
pub const SESSION_START_TAG: &str = "_hparams_/session_start_info";
pub const SESSION_END_TAG: &str = "_hparams_/session_end_info";
const PLUGIN_NAME: &str = "hparams";

/// A hyperparameter's value in a session (a `google.protobuf.Value`).
#[derive(Clone, Debug, PartialEq)]
pub enum HValue {
    Number(f64),
    Text(String),
    Bool(bool),
}

/// The values a hyperparameter takes across the sweep, for the dashboard's filters.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// The grid's values of the axis (checkboxes in the dashboard).
    Values(Vec<HValue>),
    /// A sampled range (a slider).
    Interval { min: f64, max: f64 },
}

/// One column of the hparams table.
#[derive(Clone, Debug, PartialEq)]
pub struct HParam {
    /// The settings key, as in the experiment file (`train.lr_d`).
    pub name: String,
    pub domain: Domain,
}

/// One metric column: the last value of the scalar `tag` in each run.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub tag: String,
    /// The column's heading.
    pub display_name: String,
}

/// The sweep as the dashboard lays it out. Every run writes the same one, since any run's
/// copy is the one the dashboard uses ("arbitrarily pick the first one",
/// `plugins/hparams/backend_context.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pub hparams: Vec<HParam>,
    pub metrics: Vec<Metric>,
}

/// How a session ended (`api.proto`'s `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
#[repr(i32)]
pub enum Status {
    Unknown = 0,
    Success = 1,
    Failure = 2,
    Running = 3,
}

/// `plugin_data.proto`'s `HParamsPluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct HParamsPluginData {
    /// `metadata.PLUGIN_DATA_VERSION`, 0.
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(oneof = "Data", tags = "2, 3, 4")]
    pub data: Option<Data>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum Data {
    #[prost(message, tag = "2")]
    Experiment(ExperimentProto),
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// `api.proto`'s `Experiment`.
#[derive(Clone, PartialEq, Message)]
pub struct ExperimentProto {
    #[prost(message, repeated, tag = "4")]
    pub hparam_infos: Vec<HParamInfo>,
    #[prost(message, repeated, tag = "5")]
    pub metric_infos: Vec<MetricInfo>,
}

/// `api.proto`'s `HParamInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct HParamInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(enumeration = "HParamType", tag = "4")]
    pub r#type: i32,
    #[prost(oneof = "DomainProto", tags = "5, 6")]
    pub domain: Option<DomainProto>,
    #[prost(bool, tag = "7")]
    pub differs: bool,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum DomainProto {
    #[prost(message, tag = "5")]
    Discrete(ListValue),
    #[prost(message, tag = "6")]
    Interval(Interval),
}

/// `api.proto`'s `DataType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
#[repr(i32)]
pub enum HParamType {
    Unset = 0,
    String = 1,
    Bool = 2,
    Float64 = 3,
}

/// `api.proto`'s `Interval`.
#[derive(Clone, PartialEq, Message)]
pub struct Interval {
    #[prost(double, tag = "1")]
    pub min_value: f64,
    #[prost(double, tag = "2")]
    pub max_value: f64,
}

/// `api.proto`'s `MetricInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricInfo {
    #[prost(message, optional, tag = "1")]
    pub name: Option<MetricName>,
    #[prost(string, tag = "3")]
    pub display_name: String,
}

/// `api.proto`'s `MetricName`: `group` is the run's subfolder holding the tag ("" = the run).
#[derive(Clone, PartialEq, Message)]
pub struct MetricName {
    #[prost(string, tag = "1")]
    pub group: String,
    #[prost(string, tag = "2")]
    pub tag: String,
}

/// `plugin_data.proto`'s `SessionStartInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    pub hparams: BTreeMap<String, prost_types::Value>,
    #[prost(double, tag = "5")]
    pub start_time_secs: f64,
}

/// `plugin_data.proto`'s `SessionEndInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionEndInfo {
    #[prost(enumeration = "Status", tag = "1")]
    pub status: i32,
    #[prost(double, tag = "2")]
    pub end_time_secs: f64,
}

impl HValue {
    fn proto(&self) -> prost_types::Value {
        let kind = match self {
            HValue::Number(x) => Kind::NumberValue(*x),
            HValue::Text(s) => Kind::StringValue(s.clone()),
            HValue::Bool(b) => Kind::BoolValue(*b),
        };
        prost_types::Value { kind: Some(kind) }
    }

    fn kind(&self) -> HParamType {
        match self {
            HValue::Number(_) => HParamType::Float64,
            HValue::Text(_) => HParamType::String,
            HValue::Bool(_) => HParamType::Bool,
        }
    }
}

impl HParam {
    fn info(&self) -> HParamInfo {
        let (kind, domain, differs) = match &self.domain {
            Domain::Interval { min, max } => (
                HParamType::Float64,
                DomainProto::Interval(Interval {
                    min_value: *min,
                    max_value: *max,
                }),
                min != max,
            ),
            Domain::Values(values) => {
                let first = values.first().map_or(HParamType::String, HValue::kind);
                // Mixed kinds are shown as text, as the plugin does when it infers types.
                let values: Vec<HValue> = if values.iter().all(|v| v.kind() == first) {
                    values.clone()
                } else {
                    values.iter().map(|v| HValue::Text(v.to_string())).collect()
                };
                let kind = values.first().map_or(HParamType::String, HValue::kind);
                let differs = values.iter().any(|v| *v != values[0]);
                let list = ListValue {
                    values: values.iter().map(HValue::proto).collect(),
                };
                (kind, DomainProto::Discrete(list), differs)
            }
        };
        HParamInfo {
            name: self.name.clone(),
            r#type: kind as i32,
            domain: Some(domain),
            differs,
        }
    }
}

impl std::fmt::Display for HValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HValue::Number(x) => write!(f, "{x}"),
            HValue::Text(s) => f.write_str(s),
            HValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The experiment's summary value (`EXPERIMENT_TAG`).
pub fn experiment(e: &Experiment) -> SummaryValue {
    let proto = ExperimentProto {
        hparam_infos: e.hparams.iter().map(HParam::info).collect(),
        metric_infos: e
            .metrics
            .iter()
            .map(|m| MetricInfo {
                name: Some(MetricName {
                    group: String::new(),
                    tag: m.tag.clone(),
                }),
                display_name: m.display_name.clone(),
            })
            .collect(),
    };
    value(EXPERIMENT_TAG, Data::Experiment(proto))
}

/// A session's start (`SESSION_START_TAG`): its hyperparameter values; `start_time` in seconds
/// since the Unix epoch.
pub fn session_start(values: &[(String, HValue)], start_time: f64) -> SummaryValue {
    let info = SessionStartInfo {
        hparams: values.iter().map(|(k, v)| (k.clone(), v.proto())).collect(),
        start_time_secs: start_time,
    };
    value(SESSION_START_TAG, Data::SessionStartInfo(info))
}

/// A session's end (`SESSION_END_TAG`); `end_time` in seconds since the Unix epoch.
pub fn session_end(status: Status, end_time: f64) -> SummaryValue {
    let info = SessionEndInfo {
        status: status as i32,
        end_time_secs: end_time,
    };
    value(SESSION_END_TAG, Data::SessionEndInfo(info))
}

/// A value carrying `data` in its metadata and the empty float tensor, shape [0], as the
/// plugin's own `summary.py` writes it (`metadata.NULL_TENSOR`).
fn value(tag: &str, data: Data) -> SummaryValue {
    let content = HParamsPluginData {
        version: 0,
        data: Some(data),
    };
    SummaryValue {
        tag: tag.to_string(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: PLUGIN_NAME.to_string(),
                content: content.encode_to_vec(),
            }),
        }),
        value: Some(Value::Tensor(TensorProto {
            dtype: DataType::Float as i32,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Dim { size: 0 }],
            }),
            string_val: Vec::new(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_data(v: &SummaryValue) -> HParamsPluginData {
        let content = &v.metadata.as_ref().unwrap().plugin_data.as_ref().unwrap();
        assert_eq!(content.plugin_name, "hparams");
        HParamsPluginData::decode(&content.content[..]).unwrap()
    }

    #[test]
    fn domains_take_the_kind_of_their_values() {
        let number = |x| HValue::Number(x);
        type Case = (Domain, HParamType, bool, &'static str);
        let cases: [Case; 4] = [
            (
                Domain::Values(vec![number(1e-4), number(2e-4)]),
                HParamType::Float64,
                true,
                "a numeric grid axis",
            ),
            (
                Domain::Values(vec![HValue::Text("dcgan".into())]),
                HParamType::String,
                false,
                "one value: the same for every run",
            ),
            (
                Domain::Values(vec![number(1.0), HValue::Text("auto".into())]),
                HParamType::String,
                true,
                "mixed kinds become text",
            ),
            (
                Domain::Interval { min: 0.0, max: 0.2 },
                HParamType::Float64,
                true,
                "a sampled range",
            ),
        ];
        for (domain, kind, differs, why) in cases {
            let info = HParam {
                name: "k".into(),
                domain,
            }
            .info();
            assert_eq!(info.r#type, kind as i32, "{why}");
            assert_eq!(info.differs, differs, "{why}");
        }
    }

    #[test]
    fn records_carry_their_data_in_the_metadata() {
        let start = session_start(&[("train.lr_d".into(), HValue::Number(2e-4))], 5.0);
        assert_eq!(start.tag, SESSION_START_TAG);
        let Some(Data::SessionStartInfo(info)) = plugin_data(&start).data else {
            panic!("not a session start");
        };
        assert_eq!(info.hparams["train.lr_d"], HValue::Number(2e-4).proto());
        let Some(Data::SessionEndInfo(end)) = plugin_data(&session_end(Status::Success, 9.0)).data
        else {
            panic!("not a session end");
        };
        assert_eq!(
            (end.status, end.end_time_secs),
            (Status::Success as i32, 9.0)
        );
    }
}
