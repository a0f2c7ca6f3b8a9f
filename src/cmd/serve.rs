//! `crampcheck serve`: load the KB once, then answer the web page, the JSON
//! API and the CDS Hooks service on one address until SIGINT/SIGTERM.
//! Loopback only unless `--allow-remote`: the service has no
//! authentication and no TLS.

use super::{Outcome, load_kb};
use crate::cli::ServeArgs;
use crate::server::{self, AppState, level_severity};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::Arc;

/// Runs the server until a shutdown signal; requests in flight finish.
pub fn run(args: &ServeArgs, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    if !args.bind.ip().is_loopback() && !args.allow_remote {
        bail!(
            "refusing to listen on {}: not a loopback address. The service has no \
             authentication and no TLS, so anyone who can reach it can use it and see what \
             is sent; pass --allow-remote to do it anyway",
            args.bind
        );
    }
    let kb = load_kb(db, src)?;
    let version = kb.meta.version.clone();
    let mut state = AppState::new(kb);
    state.card_level = level_severity(args.card_level);
    state.log = !args.quiet;
    let app = server::app(Arc::new(state));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let local = listener.local_addr().unwrap_or(args.bind);
        eprintln!("crampcheck serve: KB {version}, listening on http://{local}/ (Ctrl-C to stop)");
        server::run(listener, app, server::shutdown_signal())
            .await
            .context("server error")
    })?;
    eprintln!("crampcheck serve: stopped");
    Ok(Outcome::Clean)
}
