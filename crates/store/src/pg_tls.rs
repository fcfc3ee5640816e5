//! TLS for the PostgreSQL store: the URL's libpq options, and one line for each way TLS fails.
//!
//! sqlx reads `sslmode`, `sslrootcert`, `sslcert` and `sslkey` from the URL (and `PGSSLMODE`,
//! `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY` from the environment, as libpq does). Where its
//! meaning differs from libpq's, [`options`] gives libpq's:
//!
//! - `require` with a `sslrootcert` checks the server's certificate chain, as `verify-ca`;
//! - `sslrootcert=system` is the system's trusted roots (sqlx would read a file named
//!   `system`), and makes `verify-full` the default and the only mode allowed with it;
//! - `allow` tries plaintext, then TLS when the server refuses plaintext ([`connect`]; sqlx
//!   takes `allow` for `disable`);
//! - `sslcrl` and `sslcrldir`, which sqlx would silently ignore, are refused.
//!
//! `verify-ca` and `verify-full` trust the system's roots (the operating system's store, or
//! only `SSL_CERT_FILE`/`SSL_CERT_DIR` when either is set) and the `sslrootcert` certificates:
//! sqlx adds `sslrootcert` to those roots, where libpq trusts only it.
//!
//! The files are read before connecting ([`Tls::check`]), so a missing or wrong one is named
//! by the option that gives it. No message shows a URL's password or a key's content.

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::ConnectOptions;
use std::str::FromStr;

/// What one URL asks of TLS, for checking its files and naming it in messages.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    /// The host as the certificate must name it (verify-full).
    host: String,
    /// The mode the URL (or `PGSSLMODE`) gives, if it gives one.
    asked: Option<PgSslMode>,
    /// The mode used.
    mode: PgSslMode,
    root: Option<Pem>,
    cert: Option<Pem>,
    key: Option<Pem>,
}

/// A certificate or key option's value: a file, or (from the environment) PEM text itself.
#[derive(Debug, Clone)]
enum Pem {
    File(String),
    Inline(Vec<u8>),
    /// `sslrootcert=system`.
    System,
}

/// Parses a `postgres://` URL into sqlx's options with libpq's TLS meaning, and what it asks
/// of TLS. An error is the message's text.
pub(crate) fn options(url: &str) -> Result<(PgConnectOptions, Tls), String> {
    let bad = |e: &dyn std::fmt::Display| format!("invalid PostgreSQL URL: {e}");
    let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
    let (mut mode, mut root, mut cert, mut key) = (None, None, None, None);
    for (k, v) in parsed.query_pairs() {
        // The spellings sqlx accepts.
        match &*k {
            "sslmode" | "ssl-mode" => mode = Some(parse_mode(&v).map_err(|e| bad(&e))?),
            "sslrootcert" | "ssl-root-cert" | "ssl-ca" => root = Some(Pem::file(&v)),
            "sslcert" | "ssl-cert" => cert = Some(Pem::file(&v)),
            "sslkey" | "ssl-key" => key = Some(Pem::file(&v)),
            "sslcrl" | "sslcrldir" => {
                return Err(bad(&format!(
                    "{k} is not supported (sqlx checks no revocation lists); remove it"
                )))
            }
            _ => {}
        }
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if mode.is_none() {
        if let Some(v) = env("PGSSLMODE") {
            mode = Some(parse_mode(&v).map_err(|e| format!("invalid PGSSLMODE: {e}"))?);
        }
    }
    let root = root.or_else(|| env("PGSSLROOTCERT").map(|v| Pem::env(&v)));
    let cert = cert.or_else(|| env("PGSSLCERT").map(|v| Pem::env(&v)));
    let key = key.or_else(|| env("PGSSLKEY").map(|v| Pem::env(&v)));

    let mut opts = PgConnectOptions::from_str(url).map_err(|e| bad(&e))?;
    let used = match (&root, mode) {
        (Some(Pem::System), None | Some(PgSslMode::VerifyFull)) => PgSslMode::VerifyFull,
        (Some(Pem::System), Some(weak)) => {
            return Err(bad(&format!(
                "sslmode={} may not be used with sslrootcert=system (use verify-full)",
                name(weak)
            )))
        }
        (Some(_), Some(PgSslMode::Require)) => PgSslMode::VerifyCa,
        (_, Some(m)) => m,
        (_, None) => PgSslMode::Prefer,
    };
    opts = opts.ssl_mode(used);
    if let Some(Pem::System) = root {
        // No certificate beyond the system's roots, which sqlx loads for verify-*.
        opts = opts.ssl_root_cert_from_pem(Vec::new());
    }
    // An IPv6 address stays bracketed in sqlx's host, which no resolver and no TLS server
    // name takes.
    let host = opts.get_host();
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip = ip.to_string();
        opts = opts.host(&ip);
    }
    let host = opts.get_host().to_string();
    Ok((
        opts,
        Tls {
            host,
            asked: mode,
            mode: used,
            root,
            cert,
            key,
        },
    ))
}

fn parse_mode(v: &str) -> Result<PgSslMode, String> {
    PgSslMode::from_str(v).map_err(|_| {
        format!("sslmode={v:?} is none of disable, allow, prefer, require, verify-ca, verify-full")
    })
}

fn name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

fn verifies(mode: PgSslMode) -> bool {
    matches!(mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull)
}

impl Pem {
    fn file(v: &str) -> Pem {
        if v == "system" {
            Pem::System
        } else {
            Pem::File(v.to_string())
        }
    }

    /// sqlx takes an environment value that looks like PEM for the PEM itself.
    fn env(v: &str) -> Pem {
        let t = v.trim();
        if t.starts_with("-----BEGIN") && t.ends_with("-----") {
            Pem::Inline(v.as_bytes().to_vec())
        } else {
            Pem::file(v)
        }
    }

    /// `option=path`, never the content.
    fn show(&self, option: &str) -> String {
        match self {
            Pem::File(path) => format!("{option}={path}"),
            Pem::Inline(_) => format!("{option} (PEM text from the environment)"),
            Pem::System => format!("{option}=system"),
        }
    }

    /// Reads it and checks that it holds a PEM block of `kind`.
    fn check(&self, option: &str, kind: &str) -> Result<(), String> {
        let bytes = match self {
            Pem::File(path) => std::fs::read(path)
                .map_err(|e| format!("cannot read {}: {e}", self.show(option)))?,
            Pem::Inline(pem) => pem.clone(),
            Pem::System => return Ok(()),
        };
        let text = String::from_utf8_lossy(&bytes);
        if kind == "PRIVATE KEY"
            && (text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED"))
        {
            return Err(format!(
                "{} is encrypted, and sslpassword is not supported; decrypt it \
                 (openssl pkey -in KEY -out KEY.plain) and keep that file private",
                self.show(option)
            ));
        }
        let found = if kind == "PRIVATE KEY" {
            text.contains("-----BEGIN ") && text.contains(" PRIVATE KEY-----")
        } else {
            text.contains(&format!("-----BEGIN {kind}-----"))
        };
        if found {
            Ok(())
        } else {
            Err(format!(
                "{} holds no PEM {} (-----BEGIN {kind}-----)",
                self.show(option),
                kind.to_lowercase()
            ))
        }
    }
}

impl Tls {
    /// Checks, before connecting, the files the handshake will read.
    pub(crate) fn check(&self) -> Result<(), String> {
        if matches!(self.mode, PgSslMode::Disable) {
            return Ok(());
        }
        if verifies(self.mode) {
            if let Some(root) = &self.root {
                root.check("sslrootcert", "CERTIFICATE")?;
            }
        }
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                cert.check("sslcert", "CERTIFICATE")?;
                key.check("sslkey", "PRIVATE KEY")
            }
            (None, None) => Ok(()),
            (Some(cert), None) => Err(format!(
                "{} is given without sslkey; a client certificate needs both",
                cert.show("sslcert")
            )),
            (None, Some(key)) => Err(format!(
                "{} is given without sslcert; a client certificate needs both",
                key.show("sslkey")
            )),
        }
    }

    /// `sslmode=…` and the options that matter to it, for messages.
    fn label(&self) -> String {
        let mut out = match self.asked {
            Some(asked) if name(asked) != name(self.mode) => format!(
                "sslmode={} (checked as {}, since sslrootcert is given)",
                name(asked),
                name(self.mode)
            ),
            _ => format!("sslmode={}", name(self.mode)),
        };
        if verifies(self.mode) {
            match &self.root {
                Some(root) => out += &format!(", {}", root.show("sslrootcert")),
                None => out += ", no sslrootcert: the system's trusted roots",
            }
        }
        if !matches!(self.mode, PgSslMode::Disable) {
            for (pem, option) in [(&self.cert, "sslcert"), (&self.key, "sslkey")] {
                if let Some(pem) = pem {
                    out += &format!(", {}", pem.show(option));
                }
            }
        }
        out
    }

    /// What went wrong, when it is about TLS: the text after `cannot connect to … :`.
    pub(crate) fn explain(&self, e: &sqlx::Error) -> Option<String> {
        let label = self.label();
        match e {
            sqlx::Error::Tls(inner) if inner.to_string().contains("does not support TLS") => {
                Some(format!(
                    "the server does not offer TLS ({label}); turn ssl on in its \
                     configuration, or use sslmode=prefer or disable"
                ))
            }
            sqlx::Error::Tls(inner) => Some(format!("TLS set-up failed ({label}): {inner}")),
            sqlx::Error::Configuration(inner) if self.cert.is_some() || self.key.is_some() => {
                Some(format!("TLS set-up failed ({label}): {inner}"))
            }
            sqlx::Error::Io(io) => {
                let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
                Some(self.explain_handshake(tls, &label))
            }
            sqlx::Error::Database(db) if db.code().as_deref() == Some("28000") => {
                let msg = db.message();
                if msg.contains("no encryption") {
                    Some(format!(
                        "the server accepts this connection only over TLS ({msg}); use \
                         sslmode=prefer (the default) or require"
                    ))
                } else if msg.contains("certificate") {
                    Some(format!(
                        "the server refused the client certificate ({label}): {msg}; pass \
                         sslcert and sslkey of a certificate for this user, signed by a CA \
                         the server trusts (its ssl_ca_file)"
                    ))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn explain_handshake(&self, e: &rustls::Error, label: &str) -> String {
        use rustls::CertificateError as C;
        let fix_roots = match self.root {
            Some(Pem::File(_) | Pem::Inline(_)) => {
                "check that sslrootcert holds the CA that signed the server's certificate"
            }
            Some(Pem::System) | None => {
                "the system's roots do not hold the CA that signed the server's certificate; \
                 pass that CA as sslrootcert=FILE"
            }
        };
        match e {
            rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            ) => {
                format!(
                    "the server's certificate does not name {} ({label}): {e}; connect by \
                     a name it has, or use sslmode=verify-ca to check the chain only",
                    self.host
                )
            }
            rustls::Error::InvalidCertificate(
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. },
            ) => format!("the server's certificate is not valid now ({label}): {e}"),
            rustls::Error::InvalidCertificate(_) => {
                format!("the server's certificate is not trusted ({label}): {e}; {fix_roots}")
            }
            rustls::Error::AlertReceived(_) if self.cert.is_some() => format!(
                "the server refused the TLS handshake ({label}): {e}; check that sslcert is \
                 signed by a CA the server trusts (its ssl_ca_file) and that sslkey is its key"
            ),
            _ => format!("the TLS handshake failed ({label}): {e}"),
        }
    }
}

/// Connects; with `sslmode=allow`, again over TLS when the server refused plaintext.
pub(crate) async fn connect(
    opts: &PgConnectOptions,
    tls: &Tls,
) -> Result<PgConnection, sqlx::Error> {
    match opts.connect().await {
        Err(sqlx::Error::Database(refused)) if matches!(tls.mode, PgSslMode::Allow) => {
            match opts.clone().ssl_mode(PgSslMode::Require).connect().await {
                Err(sqlx::Error::Tls(_)) => Err(sqlx::Error::Database(refused)),
                again => again,
            }
        }
        done => done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> &'static str {
        name(options(url).expect("parses").0.get_ssl_mode())
    }

    #[test]
    fn libpq_meanings() {
        let base = "postgres://u:secret@db.example.com:5432/d";
        assert_eq!(mode(&format!("{base}?sslmode=disable")), "disable");
        assert_eq!(mode(&format!("{base}?sslmode=require")), "require");
        assert_eq!(
            mode(&format!("{base}?sslmode=require&sslrootcert=/ca.pem")),
            "verify-ca"
        );
        assert_eq!(mode(&format!("{base}?sslrootcert=system")), "verify-full");
        let weak = options(&format!("{base}?sslmode=require&sslrootcert=system"))
            .expect_err("a weak mode with system roots");
        assert!(
            weak.contains("may not be used with sslrootcert=system"),
            "{weak}"
        );
        let typo = options(&format!("{base}?sslmode=requir")).expect_err("a typo");
        assert!(typo.contains("none of disable"), "{typo}");
        let crl = options(&format!("{base}?sslcrl=/x.crl")).expect_err("a CRL");
        assert!(crl.contains("sslcrl is not supported"), "{crl}");
        for e in [weak, typo, crl] {
            assert!(!e.contains("secret"), "{e}");
        }
        let (opts, _) = options("postgres://u@[::1]:5432/d").expect("IPv6");
        assert_eq!(opts.get_host(), "::1");
    }

    #[test]
    fn files_are_checked_before_connecting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let url = format!(
            "postgres://u@h/d?sslmode=verify-full&sslrootcert={}",
            missing.display()
        );
        let e = options(&url)
            .expect("parses")
            .1
            .check()
            .expect_err("missing");
        assert!(
            e.starts_with(&format!("cannot read sslrootcert={}: ", missing.display())),
            "{e}"
        );
        let key = dir.path().join("k.pem");
        std::fs::write(&key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n").expect("write");
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").expect("write");
        let url = format!(
            "postgres://u@h/d?sslcert={}&sslkey={}",
            cert.display(),
            key.display()
        );
        let e = options(&url)
            .expect("parses")
            .1
            .check()
            .expect_err("encrypted");
        assert!(e.contains("is encrypted"), "{e}");
        let url = format!("postgres://u@h/d?sslcert={}", cert.display());
        let e = options(&url)
            .expect("parses")
            .1
            .check()
            .expect_err("no key");
        assert!(e.contains("without sslkey"), "{e}");
        // Not read when TLS is off.
        let url = format!(
            "postgres://u@h/d?sslmode=disable&sslcert={}",
            cert.display()
        );
        options(&url)
            .expect("parses")
            .1
            .check()
            .expect("disable reads nothing");
    }
}
