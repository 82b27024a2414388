//! A private PostgreSQL cluster in the data directory, made from the system's PostgreSQL
//! binaries, so that BMMS runs on a machine where no database server is set up.
//!
//! PostgreSQL refuses to run as root. When BMMS runs as root (containers, CI), the
//! cluster's processes run as the unprivileged `postgres` user that Debian's package
//! creates, and the cluster directory is owned by it.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The superuser of the private cluster; it owns the schema and runs migrations.
pub const OWNER: &str = "bmms_owner";
/// The database BMMS uses inside the private cluster.
pub const DATABASE: &str = "bmms";
/// Only names the socket file: the cluster listens on no TCP port at all.
const PORT: u16 = 5432;

/// A running private cluster. Stops it when dropped, unless it was already running
/// when we came (another `bmms` process owns it then).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<nix::unistd::User>,
    stop_on_drop: bool,
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use and starts it.
    pub fn start(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let bin_dir = find_binaries(bin_dir)?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let cluster_dir = data_dir.join("postgres");
        let run_as = unprivileged_user_if_root()?;
        let mut cluster = EmbeddedPostgres { cluster_dir, bin_dir, run_as, stop_on_drop: false };

        if !cluster.cluster_dir.join("PG_VERSION").exists() {
            cluster.init()?;
        }
        if cluster.is_running() {
            tracing::info!(dir = %cluster.cluster_dir.display(), "private PostgreSQL already running; using it");
        } else {
            cluster.pg_ctl_start()?;
            cluster.stop_on_drop = true;
        }
        Ok(cluster)
    }

    /// A streaming standby of this running cluster, copied into `data_dir` by
    /// `pg_basebackup` and started: what the read-replica test runs against. (In
    /// production, replication is the database operator's, with its own tools.)
    pub fn start_standby(&self, data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let cluster_dir = data_dir.canonicalize()?.join("postgres");
        let mut standby = EmbeddedPostgres { cluster_dir, bin_dir: self.bin_dir.clone(), run_as: self.run_as.clone(), stop_on_drop: false };
        std::fs::create_dir_all(&standby.cluster_dir)?;
        // PostgreSQL starts only on a directory that its user alone may write to.
        std::fs::set_permissions(&standby.cluster_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        if let Some(user) = &standby.run_as {
            nix::unistd::chown(&standby.cluster_dir, Some(user.uid), Some(user.gid))?;
        }
        let mut backup = standby.command("pg_basebackup");
        backup
            .arg("--pgdata")
            .arg(&standby.cluster_dir)
            .arg("--host")
            .arg(&self.cluster_dir)
            .args(["--port", &PORT.to_string(), "--username", OWNER, "--write-recovery-conf", "--checkpoint", "fast"]);
        run(&mut backup, "pg_basebackup").with_context(|| standby.reachability_hint())?;
        // The copy holds the primary's socket lock (its socket lives in its directory): it
        // names a running server and would keep the standby from opening its own socket.
        std::fs::remove_file(standby.cluster_dir.join(format!(".s.PGSQL.{PORT}.lock")))?;
        standby.pg_ctl_start()?;
        standby.stop_on_drop = true;
        Ok(standby)
    }

    /// Stops a cluster in `data_dir` if one runs there.
    pub fn stop_in(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<()> {
        let cluster = EmbeddedPostgres {
            cluster_dir: data_dir.canonicalize()?.join("postgres"),
            bin_dir: find_binaries(bin_dir)?,
            run_as: unprivileged_user_if_root()?,
            stop_on_drop: false,
        };
        if cluster.is_running() {
            cluster.pg_ctl_stop()?;
        }
        Ok(())
    }

    /// Connection URL for `user` to the BMMS database over the cluster's Unix socket.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!(
            "postgresql://{user}@localhost:{PORT}/{database}?host={}",
            self.cluster_dir.display()
        )
    }

    fn init(&self) -> anyhow::Result<()> {
        tracing::info!(dir = %self.cluster_dir.display(), "creating the private PostgreSQL cluster");
        std::fs::create_dir_all(&self.cluster_dir)?;
        if let Some(user) = &self.run_as {
            nix::unistd::chown(&self.cluster_dir, Some(user.uid), Some(user.gid))
                .context("cannot hand the cluster directory to the postgres user")?;
        }
        let mut initdb = self.command("initdb");
        initdb
            .arg("--pgdata")
            .arg(&self.cluster_dir)
            .args(["--username", OWNER, "--auth", "trust", "--encoding", "UTF8", "--no-locale"]);
        run(&mut initdb, "initdb").with_context(|| self.reachability_hint())
    }

    /// As root, the cluster runs as `postgres`, which must be able to reach the directory.
    fn reachability_hint(&self) -> String {
        match &self.run_as {
            Some(user) => format!(
                "PostgreSQL runs as the `{}` user here, which must be able to enter every \
                 directory above {}; choose a data directory it can reach, e.g. --data-dir /var/lib/bmms",
                user.name,
                self.cluster_dir.display()
            ),
            None => format!("cannot create the cluster in {}", self.cluster_dir.display()),
        }
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        // No TCP listener: the socket lives in the cluster directory, private to this data dir.
        // pg_ctl hands these to a shell: quote the directory, which may contain spaces.
        let options = format!(
            "-c listen_addresses='' -k '{}' -p {PORT}",
            self.cluster_dir.display().to_string().replace('\'', "'\\''")
        );
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("start")
            .arg("--pgdata")
            .arg(&self.cluster_dir)
            .args(["--wait", "--silent", "-o", &options, "--log"])
            .arg(self.cluster_dir.join("postgres.log"));
        run(&mut pg_ctl, "pg_ctl start").with_context(|| {
            format!("see {}", self.cluster_dir.join("postgres.log").display())
        })?;
        tracing::info!(dir = %self.cluster_dir.display(), "private PostgreSQL started");
        Ok(())
    }

    fn pg_ctl_stop(&self) -> anyhow::Result<()> {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("stop")
            .arg("--pgdata")
            .arg(&self.cluster_dir)
            .args(["--wait", "--silent", "--mode", "fast"]);
        run(&mut pg_ctl, "pg_ctl stop")?;
        tracing::info!(dir = %self.cluster_dir.display(), "private PostgreSQL stopped");
        Ok(())
    }

    fn is_running(&self) -> bool {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg("status").arg("--pgdata").arg(&self.cluster_dir);
        pg_ctl.output().map(|out| out.status.success()).unwrap_or(false)
    }

    fn command(&self, program: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(self.bin_dir.join(program));
        command.current_dir(self.cluster_dir.parent().unwrap_or(Path::new("/")));
        if let Some(user) = &self.run_as {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw()).env("HOME", &user.dir);
            // The postgres user may not be allowed into our working directory.
            command.current_dir("/");
        }
        command
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.stop_on_drop {
            if let Err(err) = self.pg_ctl_stop() {
                tracing::error!(error = format!("{err:#}"), "could not stop the private PostgreSQL");
            }
        }
    }
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = if stderr.trim().is_empty() { String::from_utf8_lossy(&output.stdout) } else { stderr };
        bail!("{what} failed: {}", said.trim());
    }
    Ok(())
}

/// The directory with initdb and pg_ctl: the one given, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`, else PATH.
fn find_binaries(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    find_binaries_in(explicit, Path::new("/usr/lib/postgresql"), &path)
}

fn find_binaries_in(explicit: Option<&Path>, debian_root: &Path, path: &std::ffi::OsStr) -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = explicit {
        if has_tools(dir) {
            return Ok(dir.to_owned());
        }
        bail!("{} holds no initdb and pg_ctl (BMMS_PG_BIN_DIR)", dir.display());
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir(debian_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Ok(bin);
    }
    std::env::split_paths(path).find(|dir| has_tools(dir)).ok_or_else(|| {
        anyhow::anyhow!(
            "no PostgreSQL server binaries (initdb, pg_ctl) found. Install them with \
             `apt-get install postgresql` (Debian/Ubuntu), or set DATABASE_URL to use an \
             existing PostgreSQL server"
        )
    })
}

fn unprivileged_user_if_root() -> anyhow::Result<Option<nix::unistd::User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres")? {
        Some(user) => Ok(Some(user)),
        None => bail!(
            "PostgreSQL will not run as root and there is no `postgres` user to run it as. \
             Install the `postgresql` package (it creates that user) or run BMMS as another user"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bin(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("initdb"), "").unwrap();
        std::fs::write(dir.join("pg_ctl"), "").unwrap();
    }

    #[test]
    fn without_postgresql_the_error_names_the_package_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let err = find_binaries_in(None, empty.path(), empty.path().as_os_str()).unwrap_err();
        assert!(err.to_string().contains("apt-get install postgresql"), "{err}");
    }

    #[test]
    fn the_newest_debian_version_wins_over_path() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9", "15", "13"] {
            fake_bin(&root.path().join(version).join("bin"));
        }
        let on_path = root.path().join("elsewhere");
        fake_bin(&on_path);
        let found = find_binaries_in(None, root.path(), on_path.as_os_str()).unwrap();
        assert_eq!(found, root.path().join("15").join("bin"));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(find_binaries_in(None, empty.path(), on_path.as_os_str()).unwrap(), on_path);
    }
}
