//! The `mqbridge` command: parse arguments, set up logging, and hand over to the library.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use mqbridge::config::HashingAlgorithm;

#[derive(Parser)]
#[command(name = "mqbridge", version, about)]
struct Cli {
    /// Log format: `text` (one line per event) or `json` (one JSON object per line, with
    /// the connection and route spans as fields, for log collectors).
    #[arg(long, global = true, env = "MQBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bridge until SIGINT/SIGTERM.
    Run {
        /// The config file.
        #[arg(long, env = "MQBRIDGE_CONFIG", default_value = "config/mqbridge.yaml")]
        config: PathBuf,
    },
    /// Validate a config file without starting anything.
    Check {
        /// The config file.
        file: PathBuf,
    },
    /// Print the JSON Schema of the config file (config/mqbridge.schema.json is a copy).
    Schema,
    /// Work with the routes of a config file.
    Route {
        #[command(subcommand)]
        command: RouteCommand,
    },
    /// Read a password from stdin and print its hash for a `users:` entry.
    HashPassword {
        #[arg(long, value_enum, default_value_t = Algorithm::Argon2id)]
        algorithm: Algorithm,
    },
}

#[derive(Subcommand)]
enum RouteCommand {
    /// Run one sample message through a route and print what each hop makes of it.
    /// Nothing is connected to and nothing is sent.
    Test {
        /// The config file.
        file: PathBuf,
        /// The route's name.
        route: String,
        /// The sample message (YAML or JSON: routing_key, properties, headers, body).
        #[arg(long)]
        message: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Algorithm {
    Argon2id,
    #[value(name = "rabbit_password_hashing_sha256")]
    RabbitPasswordHashingSha256,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config } => run(&config, cli.log_format),
        Command::Check { file } => match mqbridge::config::load(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Schema => {
            print!("{}", mqbridge::config::schema_json());
            ExitCode::SUCCESS
        }
        Command::Route {
            command:
                RouteCommand::Test {
                    file,
                    route,
                    message,
                },
        } => route_test(&file, &route, &message),
        Command::HashPassword { algorithm } => hash_password(algorithm),
    }
}

fn run(path: &std::path::Path, log_format: LogFormat) -> ExitCode {
    init_logging(log_format);
    let config = match mqbridge::config::load(path) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    tracing::info!(config = %path.display(), version = env!("CARGO_PKG_VERSION"), "starting mqbridge");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(mqbridge::server::run_until_signal(
        config,
        Some(path.to_path_buf()),
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn route_test(file: &std::path::Path, route: &str, message: &std::path::Path) -> ExitCode {
    let config = match mqbridge::config::load(file) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    let text = match std::fs::read_to_string(message) {
        Ok(text) => text,
        Err(e) => return fail(format!("{}: cannot read the file: {e}", message.display())),
    };
    let sample =
        match mqbridge::routes::explain::parse_sample(&text, &message.display().to_string()) {
            Ok(sample) => sample,
            Err(e) => return fail(e),
        };
    match mqbridge::routes::explain::explain(&config, route, &sample) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn hash_password(algorithm: Algorithm) -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(format!("cannot read the password from stdin: {e}"));
    }
    // Only the line ending `echo` or a terminal adds is dropped: other whitespace may be
    // part of the password.
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        return fail("the password read from stdin is empty");
    }
    let algorithm = match algorithm {
        Algorithm::Argon2id => HashingAlgorithm::Argon2id,
        Algorithm::RabbitPasswordHashingSha256 => HashingAlgorithm::RabbitPasswordHashingSha256,
    };
    match mqbridge::auth::hash_password(algorithm, password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `MQBRIDGE_LOG`, else `RUST_LOG`, else [`DEFAULT_LOG`]; plain text without colours when
/// stderr is not a terminal (a log file or journald).
/// The default log filter. lapin (the AMQP client of routes) is silenced: it logs every
/// returned message whole, bodies included, and an ERROR for each normal channel close;
/// the route engine logs what matters about its connections itself.
const DEFAULT_LOG: &str = "info,lapin=off";

fn init_logging(format: LogFormat) {
    let spec = std::env::var("MQBRIDGE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let filter = match spec.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => filter,
        Some(Err(e)) => {
            eprintln!(
                "ignoring the log filter from MQBRIDGE_LOG/RUST_LOG ({e}); using {DEFAULT_LOG}"
            );
            EnvFilter::new(DEFAULT_LOG)
        }
        None => EnvFilter::new(DEFAULT_LOG),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

fn fail(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("{error}");
    ExitCode::FAILURE
}
