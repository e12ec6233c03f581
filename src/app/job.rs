//! The window's one kind of background job, for every piece of one-shot work: loading and
//! analysing layers, the overlap check, the parcels' R-tree, a file dialog, an export.
//!
//! A `Job` runs a closure on a named thread (`std::thread::Builder::name`, so a profiler or a
//! debugger shows what each thread is for). The closure gets a `Worker`: the cancel token to
//! pass on to the engine (`Control::cancel`), a place to report its phase and fraction done,
//! and the window's context. The window polls the job once per frame: `poll` gives the result
//! once, after which the job is spent. A panic in the work is caught and given back as
//! `Panicked`, so the window lives on and says what failed. When the work is over the thread
//! wakes the window (`repaint_once`), so a result is never left waiting for the next mouse move.
//!
//! The map's renderer keeps a thread of its own instead (see `render`): it is a long-lived
//! worker fed a stream of requests, each replacing the one before, not one piece of work.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};

use eframe::egui;

/// How far a job is: the name of its phase and the fraction of that phase done (0 to 1).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phase: String,
    pub fraction: f32,
}

/// The work panicked; the text of the panic.
#[derive(Debug, Clone, PartialEq)]
pub struct Panicked(pub String);

/// What the work of a job sees: its cancel token, its progress, the window.
pub struct Worker {
    cancel: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
    ctx: egui::Context,
}

impl Worker {
    /// The cancel token, as the engine's `Control::cancel` takes it.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Records the phase and the fraction done. It does not wake the window: the work knows
    /// how often its progress is worth a frame (`egui::Context::request_repaint_after`).
    pub fn report(&self, phase: &str, fraction: f32) {
        if let Ok(mut p) = self.progress.lock() {
            if p.phase != phase {
                p.phase = phase.to_string();
            }
            p.fraction = fraction;
        }
    }

    /// The window, to wake it before the work is over (a preview to show, say).
    pub fn ctx(&self) -> &egui::Context {
        &self.ctx
    }
}

/// Work running on a thread of its own, and its result once it is over.
pub struct Job<T> {
    title: String,
    cancel: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
    result: Receiver<Result<T, Panicked>>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a thread named `thread`; `title` says what it does, for the window.
    /// Dropping the job leaves the work running to its end, its result unread.
    pub fn spawn(
        ctx: &egui::Context,
        thread: &str,
        title: impl Into<String>,
        work: impl FnOnce(&Worker) -> T + Send + 'static,
    ) -> std::io::Result<Job<T>> {
        let cancel = Arc::new(AtomicBool::new(false));
        let progress: Arc<Mutex<Progress>> = Arc::default();
        let (tx, result) = channel();
        let worker = Worker {
            cancel: cancel.clone(),
            progress: progress.clone(),
            ctx: ctx.clone(),
        };
        std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&worker)))
                    .map_err(|p| Panicked(panic_message(p.as_ref())));
                // Nobody waits for a dropped job's result.
                let _ = tx.send(r);
                repaint_once(&worker.ctx);
            })?;
        Ok(Job {
            title: title.into(),
            cancel,
            progress,
            result,
        })
    }

    /// What the job does, in a few words for the window.
    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn progress(&self) -> Progress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Asks the work to stop; it ends as it says it does when cancelled.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The result, once, when the work is over.
    pub fn poll(&mut self) -> Option<Result<T, Panicked>> {
        match self.result.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            // The thread ended without a word: only if sending itself failed.
            Err(TryRecvError::Disconnected) => Some(Err(Panicked(
                "the background thread stopped unexpectedly".into(),
            ))),
        }
    }
}

/// The text a panic was raised with.
pub fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| p.downcast_ref::<&str>().copied())
        .unwrap_or("panic")
        .to_string()
}

/// Asks for one frame as soon as possible, from any thread. `request_repaint` asks for two
/// (egui lets layout settle over a second one), and where the window is drawn in software
/// (Mesa, no GPU) each frame costs CPU that a load running at the same time needs.
pub fn repaint_once(ctx: &egui::Context) {
    ctx.request_repaint_after(std::time::Duration::from_millis(1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<T: Send + 'static>(job: &mut Job<T>) -> Result<T, Panicked> {
        let started = Instant::now();
        loop {
            if let Some(r) = job.poll() {
                return r;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the job never ended"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn a_job_gives_its_result_once_on_a_named_thread() {
        let ctx = egui::Context::default();
        let mut job = Job::spawn(&ctx, "test-job", "naming", |w| {
            w.report("name", 0.5);
            std::thread::current().name().map(str::to_string)
        })
        .unwrap();
        assert_eq!(job.title(), "naming");
        assert_eq!(wait(&mut job), Ok(Some("test-job".to_string())));
        assert_eq!(job.progress().phase, "name");
        assert_eq!(job.progress().fraction, 0.5);
    }

    #[test]
    fn a_cancelled_job_sees_its_token() {
        let ctx = egui::Context::default();
        let (go, wait_go) = channel::<()>();
        let mut job = Job::spawn(&ctx, "test-cancel", "waiting", move |w| {
            let _ = wait_go.recv();
            w.cancel_flag().load(Ordering::Relaxed)
        })
        .unwrap();
        job.cancel();
        go.send(()).unwrap();
        assert_eq!(wait(&mut job), Ok(true));
    }

    #[test]
    fn a_panic_is_an_error_and_the_window_is_woken() {
        let ctx = egui::Context::default();
        let woken = Arc::new(AtomicBool::new(false));
        let w = woken.clone();
        ctx.set_request_repaint_callback(move |_| w.store(true, Ordering::Relaxed));
        let mut job = Job::spawn(&ctx, "test-panic", "failing", |_| -> u32 {
            panic!("no such thing")
        })
        .unwrap();
        assert_eq!(wait(&mut job), Err(Panicked("no such thing".into())));
        let started = Instant::now();
        while !woken.load(Ordering::Relaxed) {
            assert!(started.elapsed() < Duration::from_secs(30), "not woken");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
