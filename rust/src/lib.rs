//! logscan's compiled hot path for server logs (logscan._core): the module, built by `pip install .`.
use pyo3::prelude::*;

#[pymodule]
fn _core(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
