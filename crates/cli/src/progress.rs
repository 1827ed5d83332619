//! Progress on stderr (indicatif): a spinner, or a count with its rate, for each step of a command that lasts over
//! a second. Shown only when stderr is a terminal, and not with `--quiet`, nor when `CI` is set or `TERM=dumb`, so
//! that pipes, files and CI logs never see it. A step's line appears once the step has lasted [`DELAY`], and is
//! cleared when the step ends: nothing is left on the terminal when the report is written.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use heapscope_snapshot::{Phase, Progress};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How long a step runs before its progress line appears: quick steps print nothing.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often a visible line is redrawn (the spinner turns, the elapsed time and the rate move).
const TICK: Duration = Duration::from_millis(100);

/// Whether progress is drawn, and after how long; set once by [`init`].
#[derive(Debug, Clone, Copy)]
struct Config {
    shown: bool,
    delay: Duration,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Decides, once per run, whether progress is drawn: `quiet` is `--quiet`; `delay` replaces [`DELAY`] (a hidden
/// test switch). Without a call, nothing is drawn.
pub fn init(quiet: bool, delay: Option<Duration>) {
    let shown = wanted(
        quiet,
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").is_some(),
        std::env::var_os("TERM").as_deref(),
    );
    let _ = CONFIG.set(Config { shown, delay: delay.unwrap_or(DELAY) });
}

/// Progress is drawn only on a terminal, unless `--quiet`, in CI (`CI` set, whatever its value) or on a terminal
/// that cannot redraw a line (`TERM=dumb`).
fn wanted(quiet: bool, stderr_is_terminal: bool, ci: bool, term: Option<&OsStr>) -> bool {
    !quiet && stderr_is_terminal && !ci && term != Some(OsStr::new("dumb"))
}

/// Whether progress is drawn in this run.
pub fn shown() -> bool {
    config().shown
}

fn config() -> Config {
    CONFIG.get().copied().unwrap_or(Config { shown: false, delay: DELAY })
}

/// Runs `f` as one step named `what` ("computing the dominator tree"): a spinner with the elapsed time once it has
/// lasted [`DELAY`], cleared when it returns.
pub fn phase<R>(what: impl Into<Cow<'static, str>>, f: impl FnOnce() -> R) -> R {
    let status = Status::start(what);
    let r = f();
    status.finish();
    r
}

/// The progress line of one step: hidden at first, drawn on stderr once the step has lasted the delay, cleared when
/// the step ends (also when dropped, so an early return by `?` leaves nothing behind).
pub struct Status {
    bar: ProgressBar,
    /// Wakes the thread that reveals the line (the sender's drop), and that thread.
    reveal: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Status {
    /// A spinner for step `what`; nothing at all when progress is not drawn.
    pub fn start(what: impl Into<Cow<'static, str>>) -> Status {
        let config = config();
        let bar = if config.shown {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(spinner_style());
        bar.set_message(what);
        let reveal = config.shown.then(|| {
            let (tx, rx) = mpsc::channel::<()>();
            let shown = bar.clone();
            let delay = config.delay;
            let thread = std::thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(delay) {
                    shown.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
                    shown.enable_steady_tick(TICK);
                }
            });
            (tx, thread)
        });
        Status { bar, reveal }
    }

    /// Moves on to another step on the same line: new name, elapsed time from now, and a count of `total` (with
    /// its rate) when `total` is not 0, else a spinner.
    pub fn next(&self, what: impl Into<Cow<'static, str>>, total: u64) {
        // In an order that lets the ticker thread, which may draw between any two calls, never show one step's
        // name with the other's counts.
        self.bar.set_style(spinner_style());
        self.bar.unset_length();
        self.bar.reset();
        self.bar.set_message(what);
        if total > 0 {
            self.bar.set_length(total);
            self.bar.set_style(count_style());
        }
    }

    /// Work done so far in the current step, and the work known (it may grow).
    pub fn count(&self, done: u64, total: u64) {
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
    }

    /// Ends the step and clears its line.
    pub fn finish(mut self) {
        self.clear();
    }

    fn clear(&mut self) {
        if let Some((tx, thread)) = self.reveal.take() {
            drop(tx);
            let _ = thread.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.clear();
        }
    }
}

impl std::fmt::Debug for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Status").field("message", &self.bar.message()).finish()
    }
}

/// `⠙ building the reference graph (3s)`.
fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// `⠙ decoding objects: 2,345,678 of 6,391,204 (1,204,311/s, 2s)`.
fn count_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}: {human_pos} of {human_len} ({rate}, {elapsed})")
        .map(|s| s.with_key("rate", rate))
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Items per second, as a whole number with thousands separators.
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{}/s", HumanCount(state.per_sec().max(0.0) as u64));
}

/// The progress of [`heapscope_snapshot::build`]: one line that follows its phases (the count and rate of the
/// objects decoded; a spinner for the others), shown once the build has lasted the delay.
#[derive(Debug)]
pub struct Build {
    status: Status,
    /// The phase shown, and the highest count reported in it (workers report out of order).
    at: Mutex<Option<(Phase, u64)>>,
}

impl Build {
    /// Starts the line; `None` when progress is not drawn (the build then reports nothing).
    pub fn start() -> Option<Build> {
        shown().then(|| Build { status: Status::start("decoding the heap"), at: Mutex::new(None) })
    }

    /// The build's progress callback.
    pub fn report(&self, p: Progress) {
        let Ok(mut at) = self.at.lock() else { return };
        match *at {
            Some((phase, done)) if phase == p.phase => {
                if p.done > done {
                    self.status.count(p.done, p.total);
                    *at = Some((phase, p.done));
                }
            }
            _ => {
                self.status.next(p.phase.to_string(), p.total);
                if p.total > 0 {
                    self.status.count(p.done, p.total);
                }
                *at = Some((p.phase, p.done));
            }
        }
    }

    /// Ends the build's line.
    pub fn finish(self) {
        self.status.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::wanted;

    #[test]
    fn only_on_a_terminal_outside_ci_and_not_quiet() {
        let xterm = Some(OsStr::new("xterm-256color"));
        assert!(wanted(false, true, false, xterm));
        assert!(wanted(false, true, false, None));
        assert!(!wanted(true, true, false, xterm), "--quiet");
        assert!(!wanted(false, false, false, xterm), "a pipe or a file");
        assert!(!wanted(false, true, true, xterm), "CI");
        assert!(!wanted(false, true, false, Some(OsStr::new("dumb"))), "TERM=dumb");
    }

    #[test]
    fn hidden_without_init() {
        // The unit tests never call `init`: a step runs its closure and draws nothing.
        assert_eq!(super::phase("a step", || 7), 7);
    }
}
