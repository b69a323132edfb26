//! A throw-away PostgreSQL cluster for the second run of the headend's
//! tests (`cargo xtask test`).
//!
//! It uses Debian's `postgresql` package (installed by the bootstrap) but
//! not its clusters: `initdb` makes a fresh one under `target/pg/` on every
//! run, listening on a free loopback port with trust authentication and
//! without fsync (nothing in it outlives the run). initdb and the server
//! refuse to run as root, so as root they run as the `postgres` user the
//! package creates, which then owns the cluster's directories. Dropping
//! the [`Cluster`] stops the server, also when the tests failed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::system;

/// The database superuser of the test cluster (trust auth, loopback only).
const SUPERUSER: &str = "dangjian";

/// Sockets live in a directory whose path must fit in `sun_path` with the
/// socket's name (`/.s.PGSQL.65535`); longer paths get no Unix socket.
const MAX_SOCKET_DIR: usize = 90;

/// A running test cluster; stopped when dropped.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    /// Whether `pg_ctl start` succeeded (and so `drop` has a server to stop).
    running: bool,
    /// `postgres://dangjian@127.0.0.1:<port>/postgres`: a server for
    /// `DANGJIAN_TEST_DATABASE_URL` (each test makes its own database in it).
    pub url: String,
}

impl Cluster {
    /// Makes and starts a fresh cluster under `<target>/pg` (or, when the
    /// `postgres` user cannot reach that directory, under the system's
    /// temporary directory).
    pub fn start(target: &Path) -> Result<Cluster> {
        let bin = server_bin()?;
        let as_postgres = system::is_root();
        let mut dir = target.join("pg");
        if as_postgres && !postgres_can_reach(target)? {
            let elsewhere = std::env::temp_dir().join("dangjian-test-pg");
            eprintln!(
                "the postgres user cannot reach {}; the test cluster goes to {}",
                target.display(),
                elsewhere.display()
            );
            dir = elsewhere;
        }
        stop_leftover(&bin, &dir, as_postgres);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the old test cluster {}", dir.display()))?;
        }
        let (data, sockets) = (dir.join("data"), dir.join("run"));
        for d in [&dir, &data, &sockets] {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        if as_postgres {
            let (uid, gid) = postgres_ids()?;
            for d in [&dir, &data, &sockets] {
                std::os::unix::fs::chown(d, Some(uid), Some(gid))
                    .with_context(|| format!("giving {} to the postgres user", d.display()))?;
            }
        }
        let mut cluster = Cluster {
            bin,
            dir,
            as_postgres,
            running: false,
            url: String::new(),
        };
        cluster.quiet(cluster.tool("initdb").arg("-D").arg(&data).args([
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        let port = free_port()?;
        let socket_dir = sockets.to_string_lossy().to_string();
        let socket_dir = if socket_dir.len() <= MAX_SOCKET_DIR && !socket_dir.contains('\'') {
            socket_dir
        } else {
            String::new()
        };
        // Appended as root keeps the file the postgres user's.
        let settings = format!(
            "\n# cargo xtask test: a throw-away cluster\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{socket_dir}'\n\
             max_connections = 500\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n"
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .with_context(|| format!("reading {}", conf.display()))?;
        text.push_str(&settings);
        std::fs::write(&conf, text).with_context(|| format!("writing {}", conf.display()))?;
        cluster.quiet(
            cluster
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-w", "-t", "120", "start"]),
        )?;
        cluster.running = true;
        cluster.url = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres");
        Ok(cluster)
    }

    /// Where the server writes its log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// A PostgreSQL program, run as the postgres user when we are root.
    fn tool(&self, name: &str) -> Command {
        tool(&self.bin, &self.dir, self.as_postgres, name)
    }

    /// Runs `cmd`, showing its output only when it fails.
    fn quiet(&self, cmd: &mut Command) -> Result<()> {
        eprintln!("+ {cmd:?}");
        let out = cmd.output().with_context(|| format!("starting {cmd:?}"))?;
        if !out.status.success() {
            bail!(
                "{cmd:?} failed with {}:\n{}{}\n(server log: {})",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log().display()
            );
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let data = self.dir.join("data");
        let stopped = self.quiet(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "fast", "-w", "stop"]),
        );
        match stopped {
            Ok(()) => eprintln!("test cluster stopped"),
            Err(e) => eprintln!("warning: stopping the test cluster: {e:#}"),
        }
    }
}

fn tool(bin: &Path, dir: &Path, as_postgres: bool, name: &str) -> Command {
    let program = bin.join(name);
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    // The caller's directory may be closed to the postgres user.
    if dir.is_dir() {
        cmd.current_dir(dir);
    } else {
        cmd.current_dir("/");
    }
    cmd
}

/// A cluster an interrupted run left running is stopped before its
/// directory is removed.
fn stop_leftover(bin: &Path, dir: &Path, as_postgres: bool) {
    let data = dir.join("data");
    if !data.join("postmaster.pid").exists() {
        return;
    }
    eprintln!(
        "stopping the test cluster a previous run left in {}",
        data.display()
    );
    let _ = tool(bin, dir, as_postgres, "pg_ctl")
        .arg("-D")
        .arg(&data)
        .args(["-m", "immediate", "-w", "stop"])
        .status();
}

/// The newest installed server's programs: Debian keeps each major version
/// in `/usr/lib/postgresql/<major>/bin`.
fn server_bin() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    match newest {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server in {}: install Debian's postgresql package \
             (cargo xtask bootstrap does)",
            root.display()
        ),
    }
}

/// The uid and gid of the `postgres` user.
fn postgres_ids() -> Result<(u32, u32)> {
    let id = |flag: &str| -> Result<u32> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .context("running id")?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .with_context(|| "no postgres user: install Debian's postgresql package".to_string())
    };
    Ok((id("-u")?, id("-g")?))
}

/// Whether the postgres user can get into `dir` (every directory above it
/// must let others through).
fn postgres_can_reach(dir: &Path) -> Result<bool> {
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .current_dir("/")
        .status()
        .context("running runuser")?;
    Ok(status.success())
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
