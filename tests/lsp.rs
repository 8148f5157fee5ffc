//! `pactum lsp` driven as an editor drives it: each `tests/lsp/*.yaml` is an exchange, run as
//! one named test through a real client conversation with the binary.
//!
//! The client here is small and written for the test (JSON-RPC with `Content-Length` framing
//! over the child's standard input and output), so that the framing the server writes is
//! checked by other code than the one that writes it. Each exchange writes its files into a
//! temporary folder, starts `pactum lsp`, sends `initialize` (offering the exchange's
//! position encoding) and `initialized`, then runs its steps, each asserting an exact outcome:
//!
//! - `open: FILE` / `change: FILE` (with `edit: {range, text}` or `text`) / `save: FILE`,
//!   then `diagnostics`: the `publishDiagnostics` for that version, exactly (range, severity,
//!   code, message);
//! - `complete: FILE, at: [line, character]`, then `labels`: the items' labels, in order;
//! - `hover: FILE, at`, then `text` and `range` (or `none: true`);
//! - `definition: FILE, at`, then `range` (in the same file; or `none: true`);
//!
//! and ends with `shutdown` and `exit`, asserting exit code 0. Positions are 0-based and count
//! in the encoding the server answered with (`encoding:`, checked).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use serde::Deserialize;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_pactum");

/// How long one answer may take before the exchange fails (a server that hangs fails the
/// suite instead of hanging it).
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Exchange {
    #[allow(dead_code)]
    description: String,
    /// Files written into the exchange's folder.
    files: BTreeMap<String, String>,
    /// The position encoding the client offers: `utf-8` (with utf-16), or `utf-16` alone.
    encoding: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default)]
    open: Option<String>,
    #[serde(default)]
    change: Option<String>,
    #[serde(default)]
    save: Option<String>,
    #[serde(default)]
    close: Option<String>,
    #[serde(default)]
    edit: Option<Edit>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    diagnostics: Option<Vec<Expected>>,
    #[serde(default)]
    complete: Option<String>,
    #[serde(default)]
    hover: Option<String>,
    #[serde(default)]
    definition: Option<String>,
    #[serde(default)]
    at: Option<[u32; 2]>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    range: Option<[u32; 4]>,
    #[serde(default)]
    none: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    range: [u32; 4],
    text: String,
}

/// A diagnostic as an exchange states it.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expected {
    range: [u32; 4],
    severity: String,
    code: String,
    message: String,
}

fn range(r: [u32; 4]) -> Value {
    json!({"start": {"line": r[0], "character": r[1]}, "end": {"line": r[2], "character": r[3]}})
}

fn unrange(v: &Value) -> [u32; 4] {
    let n = |p: &str| v.pointer(p).and_then(Value::as_u64).unwrap() as u32;
    [
        n("/start/line"),
        n("/start/character"),
        n("/end/line"),
        n("/end/character"),
    ]
}

/// A running `pactum lsp` and the client's side of the conversation.
struct Client {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    folder: PathBuf,
    versions: BTreeMap<String, i32>,
    texts: BTreeMap<String, String>,
}

/// Reads framed messages from `pipe` on a thread of its own, each sent to the receiver.
fn read_messages(pipe: impl Read + Send + 'static) -> Receiver<Value> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        loop {
            let mut length: Option<usize> = None;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(": ").expect("a header");
                if name.eq_ignore_ascii_case("Content-Length") {
                    length = Some(value.parse().expect("a length"));
                }
            }
            let mut body = vec![0; length.expect("Content-Length")];
            reader.read_exact(&mut body).unwrap();
            if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    receive
}

impl Client {
    fn start(folder: &Path) -> Client {
        let mut child = Command::new(BIN)
            .arg("lsp")
            .current_dir(folder)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let messages = read_messages(child.stdout.take().unwrap());
        Client {
            child,
            input,
            messages,
            next_id: 0,
            folder: folder.to_path_buf(),
            versions: BTreeMap::new(),
            texts: BTreeMap::new(),
        }
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.input, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.input.write_all(&body).unwrap();
        self.input.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn receive(&self, what: &str) -> Value {
        self.messages
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("no message within {} s: {what}", TIMEOUT.as_secs()))
    }

    /// Sends a request and returns its result (failing on an error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive(method);
            if message.get("id") == Some(&json!(id)) {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message.get("result").cloned().unwrap_or(Value::Null);
            }
        }
    }

    fn uri(&self, file: &str) -> String {
        format!("file://{}", self.folder.join(file).display())
    }

    /// The `publishDiagnostics` of `file`'s current version.
    fn diagnostics(&self, file: &str) -> Vec<Expected> {
        let uri = self.uri(file);
        let version = self.versions[file];
        loop {
            let message = self.receive(&format!("publishDiagnostics of {file}"));
            if message.get("method") != Some(&json!("textDocument/publishDiagnostics")) {
                continue;
            }
            let params = &message["params"];
            if params["uri"] != json!(uri) || params["version"] != json!(version) {
                continue;
            }
            return params["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Expected {
                    range: unrange(&d["range"]),
                    severity: match d["severity"].as_u64() {
                        Some(1) => "error".into(),
                        Some(2) => "warning".into(),
                        other => format!("{other:?}"),
                    },
                    code: d["code"].as_str().unwrap_or("").into(),
                    message: d["message"].as_str().unwrap_or("").into(),
                })
                .collect();
        }
    }

    fn position(&self, file: &str, at: [u32; 2]) -> Value {
        json!({"textDocument": {"uri": self.uri(file)}, "position": {"line": at[0], "character": at[1]}})
    }
}

fn run(path: &Path) {
    let exchange: Exchange =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    for (name, text) in &exchange.files {
        let path = folder.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut client = Client::start(folder.path());
    let offered = match exchange.encoding.as_str() {
        "utf-8" => json!(["utf-8", "utf-16"]),
        "utf-16" => json!(["utf-16"]),
        other => panic!("encoding {other}"),
    };
    let result = client.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {"general": {"positionEncodings": offered}}}),
    );
    assert_eq!(
        result["capabilities"]["positionEncoding"],
        json!(exchange.encoding),
        "the encoding negotiated"
    );
    client.notify("initialized", json!({}));
    for (number, step) in exchange.steps.iter().enumerate() {
        let what = format!("step {}", number + 1);
        if let Some(file) = &step.open {
            let text = exchange.files[file].clone();
            client.versions.insert(file.clone(), 1);
            client.texts.insert(file.clone(), text.clone());
            let uri = client.uri(file);
            client.notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
            );
        }
        if let Some(file) = &step.change {
            let version = client.versions[file] + 1;
            client.versions.insert(file.clone(), version);
            let change = match (&step.edit, &step.text) {
                (Some(edit), None) => json!({"range": range(edit.range), "text": edit.text}),
                (None, Some(text)) => json!({"text": text}),
                _ => panic!("{what}: a change is an `edit` or a `text`"),
            };
            let uri = client.uri(file);
            client.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
            );
        }
        if let Some(file) = &step.save {
            let uri = client.uri(file);
            client.notify(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            );
        }
        if let Some(file) = &step.close {
            let uri = client.uri(file);
            client.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": uri}}),
            );
        }
        if let Some(expected) = &step.diagnostics {
            let file = step
                .open
                .as_ref()
                .or(step.change.as_ref())
                .or(step.save.as_ref())
                .expect("diagnostics after open, change or save");
            assert_eq!(&client.diagnostics(file), expected, "{what}: diagnostics");
        }
        if let Some(file) = &step.complete {
            let params = client.position(file, step.at.expect("at"));
            let result = client.request("textDocument/completion", params);
            let labels: Vec<String> = result
                .as_array()
                .or_else(|| result["items"].as_array())
                .unwrap()
                .iter()
                .map(|item| item["label"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                Some(&labels),
                step.labels.as_ref(),
                "{what}: completion labels"
            );
        }
        if let Some(file) = &step.hover {
            let params = client.position(file, step.at.expect("at"));
            let result = client.request("textDocument/hover", params);
            if step.none {
                assert_eq!(result, Value::Null, "{what}: no hover");
            } else {
                assert_eq!(
                    result["contents"]["value"].as_str(),
                    step.text.as_deref(),
                    "{what}: hover text"
                );
                assert_eq!(
                    Some(unrange(&result["range"])),
                    step.range,
                    "{what}: hover range"
                );
            }
        }
        if let Some(file) = &step.definition {
            let params = client.position(file, step.at.expect("at"));
            let result = client.request("textDocument/definition", params);
            if step.none {
                assert_eq!(result, Value::Null, "{what}: no definition");
            } else {
                assert_eq!(
                    result["uri"],
                    json!(client.uri(file)),
                    "{what}: definition's file"
                );
                assert_eq!(
                    Some(unrange(&result["range"])),
                    step.range,
                    "{what}: definition range"
                );
            }
        }
    }
    assert_eq!(client.request("shutdown", Value::Null), Value::Null);
    client.notify("exit", Value::Null);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            client.child.kill().unwrap();
            panic!("pactum lsp did not exit after `exit`");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0), "exit code after shutdown and exit");
}

fn main() {
    let args = Arguments::from_args();
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lsp");
    let mut exchanges: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    exchanges.sort();
    assert!(!exchanges.is_empty(), "the exchanges are missing");
    let trials = exchanges
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            Trial::test(format!("lsp::{name}"), move || {
                std::panic::catch_unwind(|| run(&path)).map_err(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}: {message}", path.display()).into()
                })
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
