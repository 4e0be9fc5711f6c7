//! `[grid]`: axes whose cartesian product gives the variants (first key varies slowest),
//! followed by the explicit `[[grid.include]]` variants, in file order.

use super::keys;
use super::layers::setting_leaves;

/// One variant's grid values: (dotted key, value, where in the file it was written).
pub type Point = Vec<(String, toml::Value, String)>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    /// `"train.lr_d" = [1e-4, 2e-4]` entries, in file order.
    pub axes: Vec<(String, Vec<toml::Value>)>,
    /// `[[grid.include]]` tables, each one variant's values.
    pub include: Vec<Vec<(String, toml::Value)>>,
}

impl Grid {
    /// Reads the `[grid]` table: the grid of its well-formed entries, and every shape problem
    /// (not just the first). With problems, the grid still names the keys it varies, so that
    /// their own problems (a key that cannot vary) are reported in the same pass.
    pub fn parse(table: &toml::Table) -> (Grid, Vec<String>) {
        let mut grid = Grid::default();
        let mut problems = Vec::new();
        let unknown_section = |path: &str, shown: &str| {
            format!(
                "[grid] unknown section `[{shown}{path}]`{}",
                keys::unknown_section_hint(path, &[], shown)
            )
        };
        let mut axes = toml::Table::new();
        for (key, value) in table {
            if key == "include" {
                match value {
                    toml::Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            match item {
                                toml::Value::Table(t) => {
                                    let (values, unknown) = setting_leaves(t, "");
                                    problems.extend(
                                        unknown
                                            .iter()
                                            .map(|p| unknown_section(p, "grid.include.")),
                                    );
                                    grid.include.push(values);
                                }
                                _ => problems.push(format!(
                                    "[grid] include[{i}] must be a table of settings, like [[grid.include]]"
                                )),
                            }
                        }
                    }
                    _ => problems.push(
                        "[grid] include must be an array of tables: write [[grid.include]] sections"
                            .to_string(),
                    ),
                }
            } else if !key.contains('.')
                && !keys::is_section(key)
                && strsim::jaro_winkler(key, "include") > 0.8
            {
                problems.push(format!(
                    "[grid] has no `{key}`; did you mean `include` ([[grid.include]])?"
                ));
            } else {
                axes.insert(key.clone(), value.clone());
            }
        }
        let (entries, unknown) = setting_leaves(&axes, "");
        problems.extend(unknown.iter().map(|p| unknown_section(p, "grid.")));
        for (path, value) in entries {
            match value {
                toml::Value::Array(values) if values.is_empty() => problems.push(format!(
                    "[grid] {path} is an empty list: give at least one value or remove the key"
                )),
                toml::Value::Array(values) => grid.axes.push((path, values)),
                other => problems.push(format!(
                    "[grid] {path} must be a list of values, e.g. [{other}]"
                )),
            }
        }
        (grid, problems)
    }

    /// Every key the grid sets.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.axes.iter().map(|(k, _)| k.as_str()).collect();
        for point in &self.include {
            for (k, _) in point {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        keys
    }

    /// How the variants are laid out, for a plan's header: `grid over a x b`, then the
    /// `[[grid.include]]` tables and the keys they set (`plus 2 [[grid.include]] tables (a, c)`);
    /// None for an empty grid.
    pub fn layout(&self) -> Option<String> {
        let product = (!self.axes.is_empty()).then(|| {
            let axes: Vec<&str> = self.axes.iter().map(|(k, _)| k.as_str()).collect();
            format!("grid over {}", axes.join(" x "))
        });
        let includes = (!self.include.is_empty()).then(|| {
            let mut keys: Vec<&str> = Vec::new();
            for (k, _) in self.include.iter().flatten() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
            let n = self.include.len();
            let tables = if n == 1 { "table" } else { "tables" };
            let setting = match keys.is_empty() {
                true => "setting nothing: the defaults".to_string(),
                false => keys.join(", "),
            };
            format!("{n} [[grid.include]] {tables} ({setting})")
        });
        match (product, includes) {
            (Some(p), Some(i)) => Some(format!("{p}, plus {i}")),
            (p, i) => p.or(i),
        }
    }

    /// How many variants `points` gives, computed without building them; None past `usize`.
    pub fn count(&self) -> Option<usize> {
        let product = if self.axes.is_empty() {
            usize::from(self.include.is_empty())
        } else {
            self.axes
                .iter()
                .try_fold(1usize, |n, (_, values)| n.checked_mul(values.len()))?
        };
        product.checked_add(self.include.len())
    }

    /// The variants' grid values: the cartesian product (first axis slowest), then the includes.
    /// An empty grid gives one variant with no values.
    pub fn points(&self) -> Vec<Point> {
        let mut points: Vec<Point> = vec![Vec::new()];
        for (key, values) in &self.axes {
            points = points
                .into_iter()
                .flat_map(|point| {
                    values.iter().enumerate().map(move |(i, v)| {
                        let mut p = point.clone();
                        p.push((key.clone(), v.clone(), format!("[grid] {key}[{i}]")));
                        p
                    })
                })
                .collect();
        }
        if self.axes.is_empty() && !self.include.is_empty() {
            points.clear();
        }
        for (n, include) in self.include.iter().enumerate() {
            points.push(
                include
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone(), format!("[[grid.include]] #{}", n + 1)))
                    .collect(),
            );
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(text: &str) -> Grid {
        {
            let (grid, problems) = Grid::parse(&text.parse::<toml::Table>().unwrap());
            assert!(problems.is_empty(), "{problems:?}");
            grid
        }
    }

    fn rendered(grid: &Grid) -> Vec<String> {
        grid.points()
            .iter()
            .map(|p| {
                p.iter()
                    .map(|(k, v, _)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn product_order_first_key_slowest() {
        let g = grid(
            r#"
            "train.lr_d" = [1, 2]
            "train.p0" = [0.9, 0.99, 0.999]
            "#,
        );
        assert_eq!(
            rendered(&g),
            [
                "train.lr_d=1 train.p0=0.9",
                "train.lr_d=1 train.p0=0.99",
                "train.lr_d=1 train.p0=0.999",
                "train.lr_d=2 train.p0=0.9",
                "train.lr_d=2 train.p0=0.99",
                "train.lr_d=2 train.p0=0.999",
            ]
        );
    }

    #[test]
    fn dotted_and_quoted_keys_are_the_same() {
        assert_eq!(
            grid("train.lr_d = [1, 2]").axes,
            grid("\"train.lr_d\" = [1, 2]").axes
        );
    }

    #[test]
    fn includes_follow_the_product() {
        let g = grid(
            r#"
            "train.lr_d" = [1, 2]
            [[include]]
            "train.lr_d" = 5
            "model.d_width" = 8
            "#,
        );
        assert_eq!(
            rendered(&g),
            [
                "train.lr_d=1",
                "train.lr_d=2",
                "train.lr_d=5 model.d_width=8"
            ]
        );
    }

    #[test]
    fn the_layout_tells_the_product_from_the_include_tables() {
        for (text, layout) in [
            ("a = [1, 2]\nb = [3, 4]", Some("grid over a x b")),
            (
                "a = [1, 2]\n[[include]]\na = 5\nc = 1\n[[include]]\nc = 2",
                Some("grid over a, plus 2 [[grid.include]] tables (a, c)"),
            ),
            (
                "[[include]]\na = 1\nb = 2",
                Some("1 [[grid.include]] table (a, b)"),
            ),
            ("", None),
            (
                "[[include]]",
                Some("1 [[grid.include]] table (setting nothing: the defaults)"),
            ),
        ] {
            assert_eq!(grid(text).layout().as_deref(), layout, "{text}");
        }
    }

    #[test]
    fn only_includes() {
        let g = grid("[[include]]\n\"train.p0\" = 0.9\n[[include]]\n\"train.p0\" = 0.5");
        assert_eq!(rendered(&g), ["train.p0=0.9", "train.p0=0.5"]);
    }

    #[test]
    fn empty_grid_is_one_variant() {
        assert_eq!(grid("").points(), vec![Vec::new()]);
    }

    #[test]
    fn count_matches_the_points_without_building_them() {
        for text in [
            "",
            "a = [1, 2]\nb = [1, 2, 3]",
            "[[include]]\nx = 1",
            "a = [1, 2]\n[[include]]\nx = 1",
        ] {
            let g = grid(text);
            assert_eq!(g.count(), Some(g.points().len()), "{text:?}");
        }
        let ten = (0..10).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let huge: String = (0..30).map(|k| format!("k{k} = [{ten}]\n")).collect();
        assert_eq!(grid(&huge).count(), None, "10^30 overflows");
    }

    #[test]
    fn shape_problems_are_all_reported() {
        let table = "\"train.lr_d\" = []\n\"train.p0\" = 0.9"
            .parse::<toml::Table>()
            .unwrap();
        let (_, problems) = Grid::parse(&table);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("empty list"));
        assert!(problems[1].contains("must be a list"));
    }
}
