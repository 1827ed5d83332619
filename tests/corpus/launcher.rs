//! The corpus test's launcher: a small process (the test binary itself, in [`serve`] mode) that runs heapscope and
//! reports how each run ended, its time and its own peak RSS.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use super::KILL_AFTER;

/// Set in the environment of the launcher processes.
pub const LAUNCHER_ENV: &str = "HEAPSCOPE_CORPUS_LAUNCHER";

/// How a run ended: exit code, signal, whether it was killed for taking too long, seconds, peak RSS in KiB.
pub type Outcome = (Option<i32>, Option<i32>, bool, f64, i64);

/// Runs heapscope with `args`, stderr into `err`, killing it after [`KILL_AFTER`]; its peak RSS from `wait4`.
///
/// Called in a launcher process: a child's `ru_maxrss` starts at the RSS of the process it was spawned from (Linux
/// records the parent's high-water mark at exec), so the runs are spawned from this small process rather than from
/// the test, which holds the base cores and their truth.
#[allow(unsafe_code)]
fn run(args: &[String], err: &Path) -> Outcome {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_heapscope"))
        .args(args)
        .env("CI", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(err).expect("stderr file"))
        .spawn()
        .expect("heapscope starts");
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: `rusage` is plain data; wait4 fills it and `status`.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = tx.send((r, status, usage.ru_maxrss));
    });
    let mut killed = false;
    let (r, status, rss) = match rx.recv_timeout(KILL_AFTER) {
        Ok(v) => v,
        Err(_) => {
            killed = true;
            // SAFETY: the child has not been reaped (the waiter is still blocked in wait4), so the pid is its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            rx.recv().expect("the waiter reports")
        }
    };
    waiter.join().unwrap();
    drop(child);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4 failed");
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)))
    };
    (code, signal, killed, secs, rss)
}

/// The launcher's loop: one request per line on stdin (a JSON array: the stderr file, then heapscope's arguments),
/// one answer per line on stdout (`RUN ` and the outcome as JSON).
pub fn serve() {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let req: Vec<String> = serde_json::from_str(&line.expect("a request")).expect("a JSON request");
        let outcome = run(&req[1..], Path::new(&req[0]));
        writeln!(out, "RUN {}", serde_json::to_string(&outcome).unwrap()).unwrap();
        out.flush().unwrap();
    }
}

/// A launcher process (this test binary in [`serve`] mode).
pub struct Launcher {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Launcher {
    pub fn start() -> Launcher {
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .env(LAUNCHER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the launcher starts");
        let stdin = child.stdin.take();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        Launcher { child, stdin, stdout }
    }

    pub fn run(&mut self, args: &[&std::ffi::OsStr], err: &Path) -> Outcome {
        use std::io::{BufRead, Write};
        let mut req = vec![err.to_string_lossy().into_owned()];
        req.extend(args.iter().map(|a| a.to_str().expect("UTF-8 arguments").to_owned()));
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{}", serde_json::to_string(&req).unwrap()).expect("the launcher reads");
        stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.stdout.read_line(&mut line).expect("the launcher answers") > 0, "the launcher ended");
            if let Some(json) = line.strip_prefix("RUN ") {
                return serde_json::from_str(json).expect("a JSON answer");
            }
        }
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        // Closing its stdin ends the launcher's loop.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
