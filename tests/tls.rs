//! TLS to PostgreSQL: `sslmode`, `sslrootcert`, `sslcert` and `sslkey` in the URL, as libpq
//! spells them.
//!
//! Against the local server (ssl on, with Debian's snakeoil certificate): which connections of
//! the engine are encrypted, as the server itself reports in `pg_stat_ssl`. Against clusters
//! the tests start themselves (`initdb`, `pg_ctl`, on a free port of 127.0.0.1 only, in a
//! temporary directory, stopped on drop) with a CA and certificates made by `openssl`:
//! `verify-full` and `verify-ca` with the right CA, a wrong one and a name the certificate does
//! not have, client certificates, `allow`, and a server without TLS. Every failure is one line
//! and exit 2, without the URL's password.
//!
//! When the server or the tools are absent the tests print SKIPPED, unless
//! `EBAY_IMPORT_REQUIRE_PG=1` (CI), which makes that a failure.

mod common;

use common::*;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::io::Write;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// In every URL of the clusters; it must never appear in a message.
const PASSWORD: &str = "tls-test-pw-3141";

/// The binary with `--database URL` in `env`'s directory; the environment's TLS defaults are
/// removed so that only the URL speaks.
fn command(env: &Env, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ebay-import"));
    cmd.arg("--database")
        .arg(url)
        .args(args)
        .current_dir(env.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "DATABASE_URL",
        "EBAY_IMPORT_LOG",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGSSLCERT",
        "PGSSLKEY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn finished(out: Output, url: &str, args: &[&str]) -> Run {
    let mut all = vec![format!("--database {url}")];
    all.extend(args.iter().map(|a| a.to_string()));
    Run {
        args: all,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(env: &Env, url: &str, args: &[&str]) -> Run {
    let out = command(env, url, args).output().expect("run ebay-import");
    finished(out, url, args)
}

/// Asserts a run failed with exit 2 and one line that says each of `says`, and no password.
fn one_line_error(r: &Run, says: &[&str]) {
    r.expect_code(2);
    let err = r.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "{:?}: one line: {err}", r.args);
    assert!(
        err.starts_with("error: cannot connect to PostgreSQL "),
        "{err}"
    );
    for s in says {
        assert!(err.contains(s), "{:?}: {s:?} not in: {err}", r.args);
    }
    assert!(!err.contains(PASSWORD), "the password is shown: {err}");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

fn no_password(r: &Run) {
    assert!(
        !r.stderr.contains(PASSWORD) && !r.stdout.contains(PASSWORD),
        "the password is shown:\n{}\n{}",
        r.stdout,
        r.stderr
    );
}

fn require_pg() -> bool {
    std::env::var("EBAY_IMPORT_REQUIRE_PG").as_deref() == Ok("1")
}

fn skip(test: &str, why: &str) {
    if require_pg() {
        panic!("PostgreSQL is required (EBAY_IMPORT_REQUIRE_PG=1) but {why}");
    }
    // Straight to the file descriptor: the test harness captures eprintln!.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

// --- the local server ---------------------------------------------------------------------

/// Imports the sample over `url` while the account's lock is held elsewhere, and returns each
/// engine connection (application name, whether the server sees it encrypted) as
/// `pg_stat_ssl` shows it while the import waits for that lock.
fn engine_connections_during_an_import(env: &Env, url: &str) -> Vec<(String, bool)> {
    let account = "0190c000-0000-7000-8000-0000000000cc";
    let file = env.copy_sample();
    // Held as a running import of the account would hold it (README: PostgreSQL), on a
    // runtime that lives as long as the connection (its TLS close needs it).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let lock = rt.block_on(async {
        let mut conn = PgConnection::connect(&env.db_url()).await.expect("connect");
        sqlx::query(AssertSqlSafe(format!(
            "SELECT pg_advisory_lock(hashtextextended('ebay_import:' || '{account}', 0))"
        )))
        .execute(&mut conn)
        .await
        .expect("take the account's lock");
        conn
    });
    let args = ["import", "--account", account, "--json", file];
    let mut child: Child = command(env, url, &args).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let rows = env.rows(
            "SELECT a.application_name, CAST(s.ssl AS TEXT), CAST(a.wait_event AS TEXT) \
             FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.datname = current_database() AND a.application_name LIKE 'ebay-import%' \
             ORDER BY 1",
        );
        // The import's job is recorded before it waits for its account's turn (which it
        // tries again and again, so its connection shows no lock wait).
        let waiting = env.try_count(&format!(
            "SELECT COUNT(*) FROM import_jobs WHERE status = 'processing' \
             AND account_id = '{account}'"
        ));
        if !rows.is_empty() && waiting == Some(1) {
            break rows;
        }
        if child.try_wait().expect("poll the import").is_some() {
            let r = finished(child.wait_with_output().expect("output"), url, &args);
            panic!("the import ended before it waited for the lock: {r:?}");
        }
        assert!(
            Instant::now() < deadline,
            "the import never waited for the account's lock: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    rt.block_on(lock.close()).expect("release the lock");
    let r = finished(child.wait_with_output().expect("wait"), url, &args);
    r.expect_code(0);
    assert_eq!(u(&r.json(), "rows_read"), 5, "{r:?}");
    seen.into_iter()
        .map(|r| {
            let name = r[0].clone().expect("application_name");
            (name, r[1].as_deref() == Some("true"))
        })
        .collect()
}

#[test]
fn sslmode_decides_whether_the_engine_connections_are_encrypted() {
    let Some(env) = Env::postgres("tls_modes") else {
        return;
    };
    for (query, what, encrypted) in [
        ("?sslmode=require", "sslmode=require", true),
        ("", "no sslmode (prefer)", true),
        ("?sslmode=disable", "sslmode=disable", false),
    ] {
        let seen = engine_connections_during_an_import(&env, &format!("{}{query}", env.db_url()));
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|(_, ssl)| *ssl == encrypted),
            "{what}: every connection of the engine should be {}: {seen:?}",
            if encrypted { "encrypted" } else { "plaintext" }
        );
    }
}

// --- a CA and certificates of the test's own ------------------------------------------------

/// Certificates made by `openssl` (EC P-256, valid for two days) in a temporary directory.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `name.crt` and `name.key` with subject CN=`cn` and `extensions` (openssl.cnf lines),
    /// signed by `ca` (`ca.crt`, `ca.key`), or self-signed without it.
    fn make(&self, name: &str, cn: &str, ca: Option<&str>, extensions: &str) -> PathBuf {
        let cnf = self.path(&format!("{name}.cnf"));
        std::fs::write(
            &cnf,
            format!(
                "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {cn}\n[ext]\n{extensions}\n"
            ),
        )
        .expect("write the openssl configuration");
        let mut cmd = Command::new("openssl");
        cmd.current_dir(self.dir.path())
            .args(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .arg("-config")
            .arg(&cnf)
            .args(["-extensions", "ext", "-keyout"])
            .arg(format!("{name}.key"))
            .arg("-out")
            .arg(format!("{name}.crt"));
        if let Some(ca) = ca {
            cmd.arg("-CA")
                .arg(format!("{ca}.crt"))
                .arg("-CAkey")
                .arg(format!("{ca}.key"));
        }
        let out = cmd.output().expect("run openssl");
        assert!(
            out.status.success(),
            "openssl for {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.path(&format!("{name}.crt"))
    }

    fn ca(&self, name: &str) -> PathBuf {
        self.make(
            name,
            &format!("ebay-import test {name}"),
            None,
            "basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign",
        )
    }

    /// A server certificate that names `localhost` only (not 127.0.0.1).
    fn server(&self, name: &str, ca: &str) -> PathBuf {
        self.make(
            name,
            "localhost",
            Some(ca),
            "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost",
        )
    }

    /// A client certificate for the database user `user`.
    fn client(&self, name: &str, user: &str, ca: &str) -> PathBuf {
        self.make(
            name,
            user,
            Some(ca),
            "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = clientAuth",
        )
    }
}

// --- a cluster of the test's own --------------------------------------------------------------

/// A PostgreSQL cluster on a free port of 127.0.0.1 (no Unix socket), in a temporary
/// directory, stopped when dropped. As root, its programs run as the `postgres` user, since
/// initdb and postgres refuse to run as root.
struct Cluster {
    dir: TempDir,
    port: u16,
    owner: Option<(u32, u32)>,
}

/// `ssl = on` with the PKI's `server.crt`/`server.key`, plus `extra` configuration lines.
fn tls_conf(extra: &str) -> String {
    format!("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n{extra}")
}

fn tool_runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

impl Cluster {
    /// Starts a cluster with `conf` appended to its postgresql.conf, `hba` as its pg_hba.conf
    /// and `files` copied into its data directory (keys readable by its owner only), or
    /// `None` after a SKIPPED line when initdb, pg_ctl or openssl cannot run.
    fn start(test: &str, conf: &str, hba: &str, files: &[(&str, &Path)]) -> Option<Cluster> {
        for (tool, arg) in [
            ("initdb", "--version"),
            ("pg_ctl", "--version"),
            ("openssl", "version"),
        ] {
            if !tool_runs(tool, arg) {
                skip(test, &format!("{tool} is not on PATH or cannot run"));
                return None;
            }
        }
        let owner = match id(&["-u"]) {
            Some(0) => match (id(&["-u", "postgres"]), id(&["-g", "postgres"])) {
                (Some(uid), Some(gid)) => Some((uid, gid)),
                _ => {
                    skip(
                        test,
                        "running as root, and no postgres user to run initdb as",
                    );
                    return None;
                }
            },
            _ => None,
        };
        let cluster = Cluster {
            dir: tempfile::tempdir().expect("temporary directory"),
            port: 0,
            owner,
        };
        cluster.own(cluster.dir.path());
        let data = cluster.data();
        cluster.pg(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        );
        for (name, from) in files {
            let to = data.join(name);
            std::fs::copy(from, &to).expect("copy into the data directory");
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            cluster.own(&to);
        }
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        let base = std::fs::read_to_string(data.join("postgresql.conf")).expect("read conf");
        let mut cluster = cluster;
        // A free port can be taken between the probe and the start: try a few.
        for attempt in 0.. {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            std::fs::write(
                data.join("postgresql.conf"),
                format!(
                    "{base}\nport = {port}\nlisten_addresses = '127.0.0.1'\n\
                     unix_socket_directories = ''\nfsync = off\nmax_connections = 20\n{conf}\n"
                ),
            )
            .expect("write postgresql.conf");
            let log = cluster.dir.path().join("log");
            let started = cluster.pg_status(
                "pg_ctl",
                &[
                    "-D",
                    &data.display().to_string(),
                    "-l",
                    &log.display().to_string(),
                    "-w",
                    "-t",
                    "30",
                    "-s",
                    "start",
                ],
            );
            if started.status.success() {
                cluster.port = port;
                return Some(cluster);
            }
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                attempt < 3 && log.contains("could not bind"),
                "pg_ctl start failed: {}\n{log}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
        unreachable!()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn own(&self, path: &Path) {
        if let Some((uid, gid)) = self.owner {
            chown(path, Some(uid), Some(gid)).expect("chown to postgres");
        }
    }

    fn pg_status(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        cmd.output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    fn pg(&self, program: &str, args: &[&str]) {
        let out = self.pg_status(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `postgres://USER:PASSWORD@HOST:PORT/DB?QUERY` (trust: the password is never asked for).
    fn url(&self, user: &str, host: &str, db: &str, query: &str) -> String {
        format!(
            "postgres://{user}:{PASSWORD}@{host}:{}/{db}?{query}",
            self.port
        )
    }

    /// Runs SQL as the superuser, in plaintext.
    fn exec(&self, statements: &[&str]) {
        db_exec(
            &format!(
                "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
                self.port
            ),
            statements,
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = self.data().display().to_string();
            let _ = self.pg_status(
                "pg_ctl",
                &["-D", &data, "-m", "immediate", "-w", "-s", "stop"],
            );
        }
    }
}

/// Trust for every user, encrypted or not.
const TRUST: &str = "host all all 127.0.0.1/32 trust\n";

#[test]
fn verify_full_and_verify_ca_check_the_servers_certificate() {
    let test = "verify_full_and_verify_ca";
    if !tool_runs("openssl", "version") {
        return skip(test, "openssl is not on PATH or cannot run");
    }
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let wrong = pki.ca("other-ca");
    pki.server("server", "ca");
    let Some(pg) = Cluster::start(
        test,
        &tls_conf(""),
        TRUST,
        &[
            ("server.crt", &pki.path("server.crt")),
            ("server.key", &pki.path("server.key")),
        ],
    ) else {
        return;
    };
    let env = Env::new();
    let file = env.copy_sample();
    let ca = ca.display().to_string();
    let wrong = wrong.display().to_string();
    let url = |host: &str, query: &str| pg.url("postgres", host, "postgres", query);

    // The certificate names localhost and is signed by the CA given.
    let r = run(
        &env,
        &url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
        &["import", "--account", "tls", "--json", file],
    );
    r.expect_code(0);
    assert_eq!(u(&r.json(), "inserted"), 5, "{r:?}");
    no_password(&r);
    // verify-ca checks the chain only: 127.0.0.1 is not in the certificate.
    let r = run(
        &env,
        &url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")),
        &["jobs", "list"],
    );
    r.expect_code(0);
    no_password(&r);
    // The system's roots are SSL_CERT_FILE alone when it is set.
    let out = command(
        &env,
        &url("localhost", "sslmode=verify-full"),
        &["jobs", "list"],
    )
    .env("SSL_CERT_FILE", &ca)
    .output()
    .expect("run ebay-import");
    finished(out, "SSL_CERT_FILE", &[]).expect_code(0);
    // Without a root certificate, require takes any certificate.
    run(
        &env,
        &url("127.0.0.1", "sslmode=require"),
        &["jobs", "list"],
    )
    .expect_code(0);

    let port = pg.port;
    let cases = [
        (
            url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")),
            vec![
                format!("postgres@127.0.0.1:{port}/postgres: the server's certificate does not name 127.0.0.1"),
                format!("(sslmode=verify-full, sslrootcert={ca}):"),
                "sslmode=verify-ca".to_string(),
            ],
        ),
        (
            url("localhost", &format!("sslmode=verify-full&sslrootcert={wrong}")),
            vec![
                format!("postgres@localhost:{port}/postgres: the server's certificate is not trusted"),
                format!("(sslmode=verify-full, sslrootcert={wrong}):"),
                "UnknownIssuer".to_string(),
            ],
        ),
        (
            url("localhost", &format!("sslmode=verify-ca&sslrootcert={wrong}")),
            vec![
                "the server's certificate is not trusted".to_string(),
                format!("(sslmode=verify-ca, sslrootcert={wrong}):"),
            ],
        ),
        (
            // As libpq: require with a root certificate checks the chain, as verify-ca.
            url("localhost", &format!("sslmode=require&sslrootcert={wrong}")),
            vec![
                "the server's certificate is not trusted".to_string(),
                "(sslmode=require (checked as verify-ca, since sslrootcert is given), sslrootcert=".to_string(),
            ],
        ),
        (
            // The system's roots do not know the test's CA.
            url("localhost", "sslmode=verify-full"),
            vec![
                "the server's certificate is not trusted".to_string(),
                "(sslmode=verify-full, no sslrootcert: the system's trusted roots):".to_string(),
                "pass that CA as sslrootcert=FILE".to_string(),
            ],
        ),
        (
            url("localhost", "sslrootcert=system"),
            vec![
                "the server's certificate is not trusted".to_string(),
                "(sslmode=verify-full, sslrootcert=system):".to_string(),
                "the system's roots do not hold the CA".to_string(),
            ],
        ),
        (
            url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}.missing")),
            vec![format!("cannot read sslrootcert={ca}.missing: ")],
        ),
        (
            url("localhost", &format!("sslmode=verify-full&sslrootcert={}", pki.path("server.key").display())),
            vec!["holds no PEM certificate".to_string()],
        ),
    ];
    for (url, says) in cases {
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        one_line_error(&run(&env, &url, &["jobs", "list"]), &says);
    }
}

#[test]
fn client_certificates_authenticate_and_allow_falls_back_to_tls() {
    let test = "client_certificates";
    if !tool_runs("openssl", "version") {
        return skip(test, "openssl is not on PATH or cannot run");
    }
    let pki = Pki::new();
    let ca = pki.ca("ca");
    pki.ca("other-ca");
    pki.server("server", "ca");
    let cert = pki.client("client", "certuser", "ca");
    let stranger = pki.client("stranger", "certuser", "other-ca");
    let hba = "hostssl all certuser 127.0.0.1/32 cert\n\
               hostssl all tlsonly 127.0.0.1/32 trust\n\
               hostnossl all tlsonly 127.0.0.1/32 reject\n\
               host all postgres 127.0.0.1/32 trust\n";
    let Some(pg) = Cluster::start(
        test,
        &tls_conf("ssl_ca_file = 'ca.crt'"),
        hba,
        &[
            ("server.crt", &pki.path("server.crt")),
            ("server.key", &pki.path("server.key")),
            ("ca.crt", &ca),
        ],
    ) else {
        return;
    };
    pg.exec(&[
        "CREATE ROLE certuser LOGIN",
        "CREATE ROLE tlsonly LOGIN",
        "CREATE DATABASE certdb OWNER certuser",
        "CREATE DATABASE tlsdb OWNER tlsonly",
    ]);
    let env = Env::new();
    let file = env.copy_sample();
    let (ca, cert, stranger) = (
        ca.display().to_string(),
        cert.display().to_string(),
        stranger.display().to_string(),
    );
    let key = pki.path("client.key").display().to_string();
    let stranger_key = pki.path("stranger.key").display().to_string();
    let verified = format!("sslmode=verify-full&sslrootcert={ca}");

    // The certificate is the login: CN=certuser.
    let r = run(
        &env,
        &pg.url(
            "certuser",
            "localhost",
            "certdb",
            &format!("{verified}&sslcert={cert}&sslkey={key}"),
        ),
        &["import", "--account", "tls", "--json", file],
    );
    r.expect_code(0);
    assert_eq!(u(&r.json(), "inserted"), 5, "{r:?}");
    no_password(&r);
    // allow: plaintext first, and TLS when the server refuses plaintext.
    let r = run(
        &env,
        &pg.url("tlsonly", "127.0.0.1", "tlsdb", "sslmode=allow"),
        &["import", "--account", "tls", "--json", file],
    );
    r.expect_code(0);
    assert_eq!(u(&r.json(), "inserted"), 5, "{r:?}");

    let cases = [
        (
            pg.url("certuser", "localhost", "certdb", &verified),
            vec![
                "the server refused the client certificate",
                "sslcert and sslkey",
            ],
        ),
        (
            pg.url(
                "certuser",
                "localhost",
                "certdb",
                &format!("{verified}&sslcert={stranger}&sslkey={stranger_key}"),
            ),
            vec![
                "the server refused the TLS handshake",
                "check that sslcert is signed",
            ],
        ),
        (
            pg.url(
                "certuser",
                "localhost",
                "certdb",
                &format!("{verified}&sslcert={cert}"),
            ),
            vec!["is given without sslkey"],
        ),
        (
            pg.url(
                "certuser",
                "localhost",
                "certdb",
                &format!("{verified}&sslcert={cert}&sslkey={cert}"),
            ),
            vec!["holds no PEM private key"],
        ),
        (
            pg.url("tlsonly", "127.0.0.1", "tlsdb", "sslmode=disable"),
            vec![
                "the server accepts this connection only over TLS",
                "no encryption",
            ],
        ),
    ];
    for (url, says) in cases {
        one_line_error(&run(&env, &url, &["jobs", "list"]), &says);
    }
}

#[test]
fn require_says_when_the_server_does_not_offer_tls() {
    let Some(pg) = Cluster::start("no_tls_server", "ssl = off", TRUST, &[]) else {
        return;
    };
    let env = Env::new();
    for mode in ["require", "verify-full"] {
        let r = run(
            &env,
            &pg.url(
                "postgres",
                "127.0.0.1",
                "postgres",
                &format!("sslmode={mode}"),
            ),
            &["jobs", "list"],
        );
        one_line_error(
            &r,
            &[&format!(
                "postgres@127.0.0.1:{}/postgres: the server does not offer TLS (sslmode={mode}",
                pg.port
            )],
        );
    }
    // prefer, the default, goes on in plaintext.
    let r = run(
        &env,
        &pg.url("postgres", "127.0.0.1", "postgres", ""),
        &["migrate"],
    );
    r.expect_code(0);
    no_password(&r);
}
