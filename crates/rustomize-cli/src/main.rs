//! The `rustomize` command: a thin layer over the library. Parses flags, runs one
//! build, prints the YAML (or writes it to `-o FILE`) and the warnings. Any error
//! goes to stderr with exit code 1 and nothing on stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "rustomize",
    version,
    about = "Build Kubernetes manifests from kustomizations, byte-for-byte like kustomize"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a kustomization target from a directory.
    Build {
        /// Directory containing a kustomization file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Write the output to this file instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Whether files outside a kustomization's root may be loaded.
        #[arg(
            long = "load-restrictor",
            value_enum,
            default_value = "LoadRestrictionsRootOnly"
        )]
        load_restrictor: Restrictor,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Restrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

/// Streams the documents to `out` one at a time (the whole output is never held
/// in memory at once), byte-identical to `Build::to_yaml`.
fn write_yaml(build: &rustomize::Build, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut doc = String::new();
    for (i, resource) in build.resources.iter().enumerate() {
        doc.clear();
        if i > 0 {
            doc.push_str("---\n");
        }
        rustomize::write_document(resource, &mut doc);
        out.write_all(doc.as_bytes())?;
    }
    out.flush()
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; bad usage exits 1 like any error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Build {
            dir,
            output,
            load_restrictor,
        } => {
            let options = rustomize::BuildOptions {
                load_restrictor: match load_restrictor {
                    Restrictor::RootOnly => rustomize::LoadRestrictor::RootOnly,
                    Restrictor::None => rustomize::LoadRestrictor::None,
                },
                ..Default::default()
            };
            match rustomize::build(&dir, &options) {
                Ok(build) => {
                    let mut stderr = std::io::stderr().lock();
                    for w in &build.warnings {
                        let _ = writeln!(stderr, "{w}");
                    }
                    let written = match &output {
                        Some(path) => std::fs::File::create(path)
                            .and_then(|f| write_yaml(&build, f))
                            .map_err(|e| format!("{}: {e}", path.display())),
                        None => write_yaml(&build, std::io::stdout().lock())
                            .map_err(|e| format!("stdout: {e}")),
                    };
                    // The process ends here: leave the resource tree to the OS
                    // instead of freeing it node by node.
                    std::mem::forget(build);
                    match written {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("Error: {e}");
                            ExitCode::FAILURE
                        }
                    }
                }
                Err(e) => {
                    eprintln!("Error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
