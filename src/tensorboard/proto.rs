//! The protobuf messages of an event file, the fields this writer uses, with the field numbers
//! of tensorboard's `compat/proto/event.proto`, `summary.proto`, `tensor.proto`,
//! `tensor_shape.proto` and `plugins/text/plugin_data.proto`. Hand-written prost structs, so
//! the build needs no protoc; fields left out are ones a decoder skips as unknown.

use prost::{Enumeration, Message, Oneof};

/// `event.proto`'s `Event`: one record of an event file.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The x axis of every chart; this runner writes the run's epoch.
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(oneof = "What", tags = "3, 5, 7")]
    pub what: Option<What>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum What {
    /// "brain.Event:2", the first record of every file: version 2 tells tensorboard's
    /// EventAccumulator to purge on `SessionLog.START` rather than on out-of-order steps.
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `event.proto`'s `SessionLog`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionLog {
    #[prost(enumeration = "SessionStatus", tag = "1")]
    pub status: i32,
    #[prost(string, tag = "3")]
    pub msg: String,
}

/// `SessionLog.SessionStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
#[repr(i32)]
pub enum SessionStatus {
    Unspecified = 0,
    /// A (re)start at the event's step: readers drop what they hold at that step and later.
    Start = 1,
    Stop = 2,
    Checkpoint = 3,
}

/// `summary.proto`'s `Summary`: the values of one step.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `Summary.Value`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    #[prost(oneof = "Value", tags = "2, 4, 8")]
    pub value: Option<Value>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum Value {
    /// A scalar (the scalars dashboard; f32 in the format).
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "4")]
    Image(Image),
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `Summary.Image`: an encoded image (the images dashboard).
#[derive(Clone, PartialEq, Message)]
pub struct Image {
    #[prost(int32, tag = "1")]
    pub height: i32,
    #[prost(int32, tag = "2")]
    pub width: i32,
    /// 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

/// `summary.proto`'s `SummaryMetadata`: which plugin reads a tag, and its settings.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// The plugin's own serialized message.
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensor.proto`'s `TensorProto`, for string tensors (text) and the empty float tensor that
/// carries the hparams plugin's metadata.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(enumeration = "DataType", tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `types.proto`'s `DataType`, the two used here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
#[repr(i32)]
pub enum DataType {
    Invalid = 0,
    Float = 1,
    String = 7,
}

/// `tensor_shape.proto`'s `TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
pub struct Dim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// `plugins/text/plugin_data.proto`'s `TextPluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct TextPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
}

/// What the cut-back on resume needs of a record, decoded without copying its payload (an
/// image's bytes are skipped as unknown fields).
#[derive(Clone, PartialEq, Message)]
pub struct EventHead {
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// Set on a file's first record only.
    #[prost(string, tag = "3")]
    pub file_version: String,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<SummaryHead>,
}

/// `Summary` with only its values' tags.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryHead {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<TagOnly>,
}

/// `Summary.Value` with only its tag.
#[derive(Clone, PartialEq, Message)]
pub struct TagOnly {
    #[prost(string, tag = "1")]
    pub tag: String,
}

impl EventHead {
    /// Whether the record holds a value of `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.summary
            .as_ref()
            .is_some_and(|s| s.value.iter().any(|v| v.tag == tag))
    }
}
