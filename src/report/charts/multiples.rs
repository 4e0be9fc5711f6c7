//! Small multiples: every run's balance chart on one shared step axis, in a grid.

use anyhow::Result;

use super::{Area, balance, err};
use crate::results::reader::Run;

pub const CELL: (u32, u32) = (420, 230);
pub const COLUMNS: usize = 3;

pub fn size(runs: usize) -> (u32, u32) {
    let cols = runs.clamp(1, COLUMNS);
    let rows = runs.div_ceil(COLUMNS).max(1);
    (CELL.0 * cols as u32, CELL.1 * rows as u32)
}

/// The runs that have any rows, in grid cells left to right, top to bottom.
pub fn draw<DB: plotters::prelude::DrawingBackend>(area: &Area<DB>, runs: &[&Run]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&plotters::style::WHITE).map_err(err)?;
    let max_step = runs
        .iter()
        .filter_map(|r| r.rows.last().map(|row| row.step))
        .max()
        .unwrap_or(1);
    let cols = runs.len().clamp(1, COLUMNS);
    let cells = area.split_evenly((runs.len().div_ceil(COLUMNS).max(1), cols));
    for (cell, run) in cells.iter().zip(runs) {
        let title = format!("{} ({})", run.id, run.state.word());
        balance::draw(cell, run, &title, max_step, true)?;
    }
    Ok(())
}
