//! XLSX workbook (placeholder until the XLSX renderer lands).

use crate::error::Result;
use crate::invalid;
use crate::report::Report;

pub fn render(_r: &Report) -> Result<Vec<u8>> {
    Err(invalid!("--format xlsx is not available yet; use csv"))
}
