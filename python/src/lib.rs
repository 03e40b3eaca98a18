//! `gpulstm._native`: the Python package's bridge to the crate. Everything here is plumbing: the
//! columns a DataFrame hands over become the crate's series ([`gpulstm::data::frame`]), and training runs
//! through the command line's own code paths ([`gpulstm::cli::embed`]) on a worker thread while the
//! calling thread, with the GIL released between looks, forwards progress to Python and watches for
//! Ctrl-C (a `KeyboardInterrupt` asks the run to stop after the chunk in flight, as SIGINT does for the
//! command line). The pure-Python layer (`gpulstm/__init__.py`) builds the arguments and the frames.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use gpulstm::cli::embed::{self, MemoryData};
use gpulstm::cli::Failure;
use gpulstm::data::frame::{Frame, FrameColumn};

/// How often the waiting thread looks for progress and signals.
const POLL: Duration = Duration::from_millis(50);

fn to_py(f: Failure) -> PyErr {
    let text = f.message();
    match f {
        Failure::Usage(_) => PyValueError::new_err(text),
        Failure::Runtime(_) => PyRuntimeError::new_err(text),
        Failure::Interrupted(_) => PyKeyboardInterrupt::new_err(text),
    }
}

/// Native-endian bytes (NumPy's `tobytes()`) as numbers; a length that is not a whole number of them is
/// the caller's mistake.
fn numbers<T, const N: usize>(
    what: &str,
    bytes: &[u8],
    from: fn([u8; N]) -> T,
) -> PyResult<Vec<T>> {
    if !bytes.len().is_multiple_of(N) {
        return Err(PyValueError::new_err(format!(
            "{what}: {} bytes is not a whole number of {N}-byte values",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            from(a)
        })
        .collect())
}

fn item<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("frame: no \"{key}\"")))
}

fn bytes_of(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Vec<u8>> {
    Ok(item(d, key)?.downcast::<PyBytes>()?.as_bytes().to_vec())
}

/// A frame as `gpulstm/__init__.py` hands it over, its arrays copied out of the Python objects.
struct Columns {
    id_column: String,
    time_column: String,
    names: Vec<String>,
    ids: Vec<u32>,
    days: Vec<i64>,
    rows: Vec<i64>,
    target: (String, Vec<f64>),
    features: Vec<(String, Vec<f64>)>,
    label: String,
    checksum: String,
}

impl Columns {
    fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<Columns> {
        let column = |obj: Bound<'_, PyAny>| -> PyResult<(String, Vec<f64>)> {
            let (name, data): (String, Vec<u8>) = obj.extract()?;
            let values = numbers(&name, &data, f64::from_ne_bytes)?;
            Ok((name, values))
        };
        let features = item(d, "features")?
            .downcast::<PyList>()?
            .iter()
            .map(column)
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Columns {
            id_column: item(d, "id_column")?.extract()?,
            time_column: item(d, "time_column")?.extract()?,
            names: item(d, "names")?.extract()?,
            ids: numbers("ids", &bytes_of(d, "ids")?, u32::from_ne_bytes)?,
            days: numbers("days", &bytes_of(d, "days")?, i64::from_ne_bytes)?,
            rows: numbers("rows", &bytes_of(d, "rows")?, i64::from_ne_bytes)?,
            target: column(item(d, "target")?)?,
            features,
            label: item(d, "label")?.extract()?,
            checksum: item(d, "checksum")?.extract()?,
        })
    }

    fn frame(&self) -> Frame<'_> {
        Frame {
            id_column: self.id_column.clone(),
            time_column: self.time_column.clone(),
            names: self.names.clone(),
            ids: &self.ids,
            days: &self.days,
            rows: &self.rows,
            features: self
                .features
                .iter()
                .map(|(name, values)| FrameColumn {
                    name: name.clone(),
                    values,
                })
                .collect(),
            target: FrameColumn {
                name: self.target.0.clone(),
                values: &self.target.1,
            },
        }
    }

    fn memory_data(&self) -> PyResult<MemoryData> {
        let panel = self
            .frame()
            .series()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(MemoryData {
            panel,
            label: self.label.clone(),
            checksum: self.checksum.clone(),
        })
    }
}

fn memory_data(frame: Option<&Bound<'_, PyDict>>) -> PyResult<Option<MemoryData>> {
    frame
        .map(|d| Columns::from_dict(d)?.memory_data())
        .transpose()
}

/// A progress update on its way to the Python callback: `(stage, done, total, val_loss)`.
type Update = (String, usize, usize, Option<f64>);

/// Runs `work` on a worker thread; this thread, the GIL released while it waits, hands progress to
/// `progress` and turns a signal (Ctrl-C) or an exception raised by `progress` into a stop request.
/// Returns the work's result and the exception that asked for the stop, if one did.
///
/// Each update is a rendezvous: the worker waits until the callback has run and signals have been
/// checked, so a stop asked for in (or right after) the callback for chunk k is seen before chunk
/// k + 1 starts, however fast the chunks are. Without it a small run could finish before this thread
/// got round to its first update, and the Ctrl-C would be lost.
fn watched<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
    work: impl FnOnce() -> T + Send,
) -> PyResult<(T, Option<PyErr>)> {
    gpulstm::interrupt::handled_by_host();
    gpulstm::interrupt::clear();
    embed::set_silent(!verbose);
    let (tx, rx) = mpsc::channel::<Update>();
    let (ack_tx, ack_rx) = mpsc::channel::<()>();
    if progress.is_some() {
        let link = Mutex::new((tx, ack_rx));
        gpulstm::progress::set_observer(Some(Arc::new(move |p: &gpulstm::train::Progress| {
            if let Ok(link) = link.lock() {
                let update = (p.stage.to_string(), p.done, p.total, p.val_loss);
                // An error means this thread has stopped listening: go on without waiting.
                if link.0.send(update).is_ok() {
                    let _ = link.1.recv();
                }
            }
        })));
    }
    // Behind a lock so the waiting closure (run without the GIL) may borrow it.
    let rx = Mutex::new(rx);
    let outcome = std::thread::scope(|scope| {
        let handle = scope.spawn(work);
        let mut stop: Option<PyErr> = None;
        let mut forward = Forward::default();
        loop {
            let finished = handle.is_finished();
            let update: Option<Update> = py.allow_threads(|| {
                let rx = rx.lock().ok()?;
                if finished {
                    rx.try_recv().ok()
                } else {
                    rx.recv_timeout(POLL).ok()
                }
            });
            if let (Some(callback), Some(u)) = (progress, update.as_ref()) {
                if forward.moves(u) {
                    if let Err(e) = callback.call1(u.clone()) {
                        ask_stop(&mut stop, e);
                    }
                }
            }
            if let Err(e) = py.check_signals() {
                ask_stop(&mut stop, e);
            }
            if update.is_some() {
                let _ = ack_tx.send(());
            } else if finished {
                break;
            }
        }
        (handle.join(), stop)
    });
    gpulstm::progress::set_observer(None);
    embed::set_silent(false);
    gpulstm::interrupt::clear();
    match outcome {
        (Ok(value), stop) => Ok((value, stop)),
        (Err(_), _) => Err(PyRuntimeError::new_err(
            "gpulstm: the training thread panicked (a bug: please report it with the arguments used)",
        )),
    }
}

/// The callback sees progress only move forward: worker threads that finish chunks together may
/// report them out of order (chunk 3 before chunk 2), and a bar must not step back.
#[derive(Default)]
struct Forward {
    last: Option<(String, usize)>,
}

impl Forward {
    /// Whether `u` is news: a new stage, or more done in the current one.
    fn moves(&mut self, u: &Update) -> bool {
        let news = match &self.last {
            Some((stage, done)) => *stage != u.0 || u.1 > *done,
            None => true,
        };
        if news {
            self.last = Some((u.0.clone(), u.1));
        }
        news
    }
}

/// Keeps the first exception that asked for a stop and tells the run to stop at its next chunk.
fn ask_stop(stop: &mut Option<PyErr>, e: PyErr) {
    if stop.is_none() {
        gpulstm::interrupt::request();
        *stop = Some(e);
    }
}

/// What a run's end means for Python: its value, or the failure as an exception. A stop asked for
/// by an exception from the progress callback (not a Ctrl-C) raises that exception; one asked for by
/// Ctrl-C raises `KeyboardInterrupt` with the crate's message, which says how to resume.
fn finish<T>(py: Python<'_>, result: Result<T, Failure>, stop: Option<PyErr>) -> PyResult<T> {
    match (result, stop) {
        (Ok(value), None) => Ok(value),
        // The stop came during the last chunk: the run is complete on disk, and the exception (the
        // user's Ctrl-C or the callback's error) still reaches the caller rather than vanishing.
        (Ok(_), Some(e)) => Err(e),
        (Err(Failure::Interrupted(_)), Some(e)) if !e.is_instance_of::<PyKeyboardInterrupt>(py) => {
            Err(e)
        }
        (Err(f), _) => Err(to_py(f)),
    }
}

/// `train` with `argv` (starting with "train") on `frame` (or the `--data` files), through the
/// command line's code. Returns the run directory.
#[pyfunction]
#[pyo3(signature = (argv, frame=None, progress=None, verbose=true))]
fn train(
    py: Python<'_>,
    argv: Vec<String>,
    frame: Option<&Bound<'_, PyDict>>,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
) -> PyResult<String> {
    let data = memory_data(frame)?;
    let (result, stop) = watched(py, progress, verbose, || embed::train(&argv, data.as_ref()))?;
    finish(py, result, stop).map(|dir| dir.display().to_string())
}

/// Continues the interrupted run in `dir` (on `frame` when it was started on one).
#[pyfunction]
#[pyo3(signature = (dir, frame=None, backend=None, progress=None, verbose=true))]
fn resume(
    py: Python<'_>,
    dir: String,
    frame: Option<&Bound<'_, PyDict>>,
    backend: Option<String>,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
) -> PyResult<String> {
    let data = memory_data(frame)?;
    let quiet = progress.is_some() || !verbose;
    let (result, stop) = watched(py, progress, verbose, || {
        embed::resume(
            std::path::Path::new(&dir),
            data.as_ref(),
            backend.as_deref(),
            quiet,
        )
    })?;
    finish(py, result, stop).map(|dir| dir.display().to_string())
}

/// The command line itself on `argv` (without the program name), as `gpulstm ARGV...` would run it.
#[pyfunction]
#[pyo3(signature = (argv, progress=None, verbose=true))]
fn cli(
    py: Python<'_>,
    argv: Vec<String>,
    progress: Option<&Bound<'_, PyAny>>,
    verbose: bool,
) -> PyResult<()> {
    let (result, stop) = watched(py, progress, verbose, || embed::run_args(&argv))?;
    finish(py, result, stop)
}

/// Checks a frame as `train` would, without training: the series' names and lengths.
#[pyfunction]
fn check_frame(frame: &Bound<'_, PyDict>) -> PyResult<Vec<(String, usize)>> {
    let data = Columns::from_dict(frame)?.memory_data()?;
    Ok(data
        .panel
        .iter()
        .map(|s| (s.name.clone(), s.series.len()))
        .collect())
}

/// The next-day forecast of the saved models in `model` on the one series of `frame`:
/// `(ISO date, mean, each model's forecast)`.
#[pyfunction]
fn predict(model: String, frame: &Bound<'_, PyDict>) -> PyResult<(String, f64, Vec<f64>)> {
    let data = Columns::from_dict(frame)?.memory_data()?;
    let [one] = data.panel.as_slice() else {
        return Err(PyValueError::new_err(format!(
            "predict reads one series; the frame holds {}",
            data.panel.len()
        )));
    };
    let (date, f) = embed::predict(std::path::Path::new(&model), &one.series).map_err(to_py)?;
    let members = f.members.iter().map(|m| m.price).collect();
    Ok((date.format("%Y-%m-%d").to_string(), f.mean, members))
}

/// One series' row of `Run.predict`: `(series, ISO date, mean, min, max, std, models)`.
type PredictRow = (String, String, f64, f64, f64, f64, usize);

/// The next-day forecast of every series of `frame` by its own models in the run directory `run`,
/// one row per series in the frame's order.
#[pyfunction]
fn predict_run(run: String, frame: &Bound<'_, PyDict>) -> PyResult<Vec<PredictRow>> {
    let data = Columns::from_dict(frame)?.memory_data()?;
    let rows = embed::predict_run(std::path::Path::new(&run), &data.panel).map_err(to_py)?;
    Ok(rows
        .into_iter()
        .map(|(name, date, f)| {
            let day = date.format("%Y-%m-%d").to_string();
            (name, day, f.mean, f.min, f.max, f.std, f.members.len())
        })
        .collect())
}

/// The saved models of series `name` in the run directory `run` (see `embed::run_model`).
#[pyfunction]
fn run_model(run: String, name: String, series_count: usize) -> PyResult<String> {
    embed::run_model(std::path::Path::new(&run), &name, series_count)
        .map(|p| p.display().to_string())
        .map_err(to_py)
}

/// `(features, target, lookback)` of a saved model.
#[pyfunction]
fn model_inputs(model: String) -> PyResult<(Vec<String>, String, usize)> {
    embed::model_inputs(std::path::Path::new(&model)).map_err(to_py)
}

/// `(table, json)`: the table `gpulstm devices` prints and the adapters' summaries as JSON.
#[pyfunction]
fn devices(py: Python<'_>) -> PyResult<(String, String)> {
    py.allow_threads(embed::devices).map_err(to_py)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(resume, m)?)?;
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(check_frame, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(predict_run, m)?)?;
    m.add_function(wrap_pyfunction!(run_model, m)?)?;
    m.add_function(wrap_pyfunction!(model_inputs, m)?)?;
    m.add_function(wrap_pyfunction!(devices, m)?)?;
    Ok(())
}
