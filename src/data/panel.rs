//! Placeholder until the panel loader lands: files only.

use std::path::PathBuf;

use super::{load_csv, DataError, LoadOptions, Series};

/// One series of a panel and the name it is reported under.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSeries {
    pub name: String,
    pub series: Series,
}

pub enum PanelSource {
    Files(Vec<PathBuf>),
}

pub fn panel_source(paths: &[PathBuf], _id_column: Option<&str>) -> Result<PanelSource, DataError> {
    Ok(PanelSource::Files(paths.to_vec()))
}

pub fn load_panel(source: &PanelSource, opts: &LoadOptions) -> Result<Vec<NamedSeries>, DataError> {
    let PanelSource::Files(paths) = source;
    paths
        .iter()
        .map(|p| {
            Ok(NamedSeries {
                name: p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                series: load_csv(p, opts)?,
            })
        })
        .collect()
}
