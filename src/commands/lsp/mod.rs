//! `pactum lsp`: a language server over standard input and output for agreement, mapping and
//! scenario files (docs/rules.md, "A language server").
//!
//! It speaks the Language Server Protocol through rust-analyzer's `lsp-server` (synchronous,
//! a thread each for reading and writing the framed messages) and `lsp-types`. This module is
//! the main loop: `initialize` (the position encoding negotiated: UTF-8 when the client
//! offers it, else UTF-16), the open files' texts kept as they change (full or incremental
//! changes), requests answered from the library's [`pactum::editor`] (completion, hover,
//! go-to-definition), and every change handed to [`diagnose`], whose thread runs `pactum
//! check`'s own loaders on the current text. [`position`] converts between the protocol's
//! positions and pactum's.
//!
//! Exit code: 0 after `shutdown` then `exit`, 1 for an `exit` without `shutdown` or standard
//! input closed first (the protocol's rule).

mod diagnose;
mod position;

use std::rc::Rc;

use pactum::load::confine::Roots;
use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _,
};
use lsp_types::request::{Completion, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents,
    HoverParams, Location, MarkupContent, MarkupKind, TextDocumentPositionParams, Uri,
};
use serde_json::{Value, json};

use pactum::editor::{self, CompletionKind, Document};

use crate::commands::confine::RootArgs;
use diagnose::{Checker, Job};
use position::{Encoding, Lines};

/// What `pactum lsp` is given.
#[derive(clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that start every server with `--stdio`: standard input and
    /// output are the only transport.
    #[arg(long)]
    stdio: bool,
    #[command(flatten)]
    roots: RootArgs,
}

/// One open file.
struct Open {
    text: String,
    version: i32,
    /// Its analysis, made when first asked for after a change.
    document: Option<Document>,
}

/// Runs the server until `exit`; returns the exit code.
pub fn run(args: LspArgs) -> Result<u8> {
    let _ = args.stdio;
    let roots = args.roots.roots()?;
    let (connection, io_threads) = Connection::stdio();
    let (id, params) = connection
        .initialize_start()
        .context("the language client did not initialize")?;
    let offered: Vec<String> = params
        .pointer("/capabilities/general/positionEncodings")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let encoding = Encoding::choose(&offered);
    connection
        .initialize_finish(id, initialize_result(encoding))
        .context("the language client did not finish initializing")?;
    let sender = connection.sender.clone();
    // The main loop reads the vocabulary files a file being typed includes (for completion and
    // hover), confined as its checks read them.
    let roots_here = roots.clone();
    let checker = Checker::start(
        move |message| {
            let _ = sender.send(message);
        },
        encoding,
        roots,
    )
    .context("cannot start the checking thread")?;
    let code = serve(&connection, &checker, encoding, &roots_here)?;
    drop(checker);
    drop(connection);
    io_threads
        .join()
        .context("the language client's connection")?;
    Ok(code)
}

/// What the server can do.
fn initialize_result(encoding: Encoding) -> Value {
    json!({
        "capabilities": {
            "positionEncoding": encoding.as_str(),
            "textDocumentSync": {
                "openClose": true,
                // Incremental: the client sends only what changed.
                "change": 2,
                "save": {"includeText": false}
            },
            "completionProvider": {"triggerCharacters": [".", "\"", "{"]},
            "hoverProvider": true,
            "definitionProvider": true
        },
        "serverInfo": {"name": "pactum", "version": env!("CARGO_PKG_VERSION")}
    })
}

/// The main loop: until `exit`.
fn serve(
    connection: &Connection,
    checker: &Checker,
    encoding: Encoding,
    roots: &Roots,
) -> Result<u8> {
    let mut files: HashMap<String, Open> = HashMap::new();
    let send = |message: Message| {
        let _ = connection.sender.send(message);
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(0);
                }
                send(Message::Response(answer(
                    &mut files, request, encoding, roots,
                )));
            }
            Message::Notification(notification) => {
                if notification.method == "exit" {
                    return Ok(1);
                }
                notify(&mut files, notification, checker, &send, encoding);
            }
            Message::Response(_) => {}
        }
    }
    Ok(1)
}

/// The path of a `file:` URI (percent-decoded), else `None`.
fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let path = rest.get(rest.find('/')?..)?;
    let mut bytes = Vec::with_capacity(path.len());
    let mut raw = path.bytes();
    while let Some(b) = raw.next() {
        if b == b'%' {
            let high = raw.next().and_then(|h| (h as char).to_digit(16));
            let low = raw.next().and_then(|l| (l as char).to_digit(16));
            match (high, low) {
                (Some(h), Some(l)) => bytes.push(u8::try_from(h * 16 + l).ok()?),
                _ => return None,
            }
        } else {
            bytes.push(b);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

fn job(uri: &Uri, open: &Open) -> Job {
    Job {
        uri: uri.clone(),
        path: path_of(uri),
        version: Some(open.version),
        text: open.text.clone(),
    }
}

fn notify(
    files: &mut HashMap<String, Open>,
    notification: Notification,
    checker: &Checker,
    send: &dyn Fn(Message),
    encoding: Encoding,
) {
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let Ok(params) =
                notification.extract::<DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
            else {
                return;
            };
            let document = params.text_document;
            let open = Open {
                text: document.text,
                version: document.version,
                document: None,
            };
            checker.check(job(&document.uri, &open));
            files.insert(document.uri.as_str().to_string(), open);
        }
        DidChangeTextDocument::METHOD => {
            let Ok(params) =
                notification.extract::<DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
            else {
                return;
            };
            let uri = params.text_document.uri;
            let Some(open) = files.get_mut(uri.as_str()) else {
                return;
            };
            for change in params.content_changes {
                match change.range {
                    Some(range) => {
                        let start = position::offset(&open.text, range.start, encoding);
                        let end = position::offset(&open.text, range.end, encoding).max(start);
                        open.text.replace_range(start..end, &change.text);
                    }
                    None => open.text = change.text,
                }
            }
            open.version = params.text_document.version;
            open.document = None;
            checker.check(job(&uri, open));
        }
        DidSaveTextDocument::METHOD => {
            // The files it names may have changed on disk too.
            let Ok(params) =
                notification.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
            else {
                return;
            };
            let uri = params.text_document.uri;
            if let Some(open) = files.get(uri.as_str()) {
                checker.check(job(&uri, open));
            }
        }
        DidCloseTextDocument::METHOD => {
            let Ok(params) =
                notification.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
            else {
                return;
            };
            let uri = params.text_document.uri;
            files.remove(uri.as_str());
            checker.close(&uri, send);
        }
        _ => {}
    }
}

/// The open file a request is about, analysed, and the cursor as a line and a byte.
fn at<'a>(
    files: &'a mut HashMap<String, Open>,
    position: &TextDocumentPositionParams,
    encoding: Encoding,
    roots: &Roots,
) -> Option<(&'a Document, &'a str, usize, usize)> {
    let uri = &position.text_document.uri;
    let open = files.get_mut(uri.as_str())?;
    let (line, column) = Lines::new(&open.text).byte(position.position, encoding);
    if open.document.is_none() {
        let name =
            path_of(uri).map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
        // Its declared vocabulary, with the files it includes read from its folder.
        let folder = pactum::load::confine::folder_of(&name).to_path_buf();
        let declared = pactum::load::vocabulary::declared_in(&name, &open.text, roots, &mut |p| {
            crate::commands::load::read_included(p, &folder, roots)
        });
        open.document = Some(Document::new(&name, &open.text).declaring(Rc::new(declared)));
    }
    let document = open.document.as_ref()?;
    Some((document, open.text.as_str(), line, column))
}

fn answer(
    files: &mut HashMap<String, Open>,
    request: Request,
    encoding: Encoding,
    roots: &Roots,
) -> Response {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        Completion::METHOD => {
            request
                .extract::<CompletionParams>(Completion::METHOD)
                .map(|(_, params)| {
                    let items = at(files, &params.text_document_position, encoding, roots)
                        .map(|(document, _, line, column)| editor::complete(document, line, column))
                        .unwrap_or_default();
                    serde_json::to_value(CompletionResponse::Array(
                        items.into_iter().map(completion_item).collect(),
                    ))
                })
        }
        HoverRequest::METHOD => {
            request
                .extract::<HoverParams>(HoverRequest::METHOD)
                .map(|(_, params)| {
                    let found = at(
                        files,
                        &params.text_document_position_params,
                        encoding,
                        roots,
                    )
                    .and_then(|(document, text, line, column)| {
                        let hover = editor::hover(document, line, column)?;
                        Some(Hover {
                            contents: HoverContents::Markup(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value: hover.text,
                            }),
                            range: Some(Lines::new(text).range(hover.span, encoding)),
                        })
                    });
                    serde_json::to_value(found)
                })
        }
        GotoDefinition::METHOD => request
            .extract::<GotoDefinitionParams>(GotoDefinition::METHOD)
            .map(|(_, params)| {
                let position = params.text_document_position_params;
                let uri = position.text_document.uri.clone();
                let found = at(files, &position, encoding, roots).and_then(
                    |(document, text, line, column)| {
                        let span = editor::definition(document, line, column)?;
                        Some(GotoDefinitionResponse::Scalar(Location {
                            uri,
                            range: Lines::new(text).range(span, encoding),
                        }))
                    },
                );
                serde_json::to_value(found)
            }),
        _ => {
            return Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("pactum lsp does not answer {}", request.method),
            );
        }
    };
    match result {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(err)) => Response::new_err(id, ErrorCode::InternalError as i32, err.to_string()),
        Err(err) => Response::new_err(id, ErrorCode::InvalidParams as i32, err.to_string()),
    }
}

fn completion_item(item: editor::Completion) -> CompletionItem {
    CompletionItem {
        kind: Some(match item.kind {
            CompletionKind::Key => CompletionItemKind::PROPERTY,
            CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
            CompletionKind::Party => CompletionItemKind::CONSTANT,
            CompletionKind::List => CompletionItemKind::VARIABLE,
            CompletionKind::Function => CompletionItemKind::FUNCTION,
            CompletionKind::Shape => CompletionItemKind::VALUE,
            CompletionKind::Field => CompletionItemKind::FIELD,
            CompletionKind::EventKind => CompletionItemKind::ENUM_MEMBER,
            CompletionKind::Variable => CompletionItemKind::VARIABLE,
        }),
        detail: (!item.detail.is_empty()).then_some(item.detail),
        insert_text: item.insert,
        label: item.label,
        ..CompletionItem::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn file_uris_become_paths() {
        let uri = Uri::from_str("file:///tmp/r%C3%BCles/a%20b.yaml").unwrap();
        assert_eq!(path_of(&uri), Some(PathBuf::from("/tmp/rüles/a b.yaml")));
        let uri = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(path_of(&uri), None);
    }
}
