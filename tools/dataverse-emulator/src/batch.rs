//! `$batch` with change sets: parse the multipart body, run each part through `Db::execute`
//! (a change set atomically: rolled back when one part fails), and write the multipart answer.

use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, Req, Resp, error};
use crate::odata;

struct Part {
    content_id: Option<String>,
    req: Req,
}

/// The boundary parameter of a `multipart/mixed` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
}

fn sections<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delim = format!("--{boundary}");
    body.split(delim.as_str())
        .skip(1)
        .take_while(|s| !s.starts_with("--"))
        .collect()
}

fn split_headers(section: &str) -> (Vec<(String, String)>, &str) {
    let s = section.trim_start_matches(['\r', '\n']);
    let (head, rest) = s
        .split_once("\r\n\r\n")
        .or_else(|| s.split_once("\n\n"))
        .unwrap_or((s, ""));
    let headers = head
        .lines()
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    (headers, rest)
}

fn parse_request(section: &str, api: &str) -> Result<Part, Resp> {
    let (outer, http) = split_headers(section);
    let content_id = outer
        .iter()
        .find(|(k, _)| k == "content-id")
        .map(|(_, v)| v.clone());
    let http = http.trim_start_matches(['\r', '\n']);
    let (request_line, rest) = http.split_once('\n').unwrap_or((http, ""));
    let mut it = request_line.trim().split(' ');
    let method = it.next().unwrap_or("").to_string();
    let url = it.next().unwrap_or("").to_string();
    let (headers, body) = split_headers(rest);
    let path_and_query = url
        .strip_prefix(api)
        .or_else(|| url.split_once("/api/data/v9.2/").map(|(_, p)| p))
        .unwrap_or(&url);
    let (path, q) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = body.trim();
    let json = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_str::<Value>(body).map_err(|e| {
            error(
                400,
                "0x80040203",
                &format!("Invalid JSON in batch part: {e}"),
            )
        })?)
    };
    Ok(Part {
        content_id,
        req: Req {
            method,
            path: path.to_string(),
            query: odata::query(q),
            if_none_match: get("if-none-match"),
            if_match: get("if-match"),
            representation: get("prefer").is_some_and(|p| p.contains("return=representation")),
            body: json,
        },
    })
}

fn render(out: &mut String, boundary: &str, resp: &Resp, content_id: Option<&str>) {
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    ));
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!(
        "\r\nHTTP/1.1 {} {}\r\n",
        resp.status,
        reason(resp.status)
    ));
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if resp.body.is_null() {
        out.push_str("\r\n\r\n");
    } else {
        out.push_str(&format!("Content-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n{}\r\n", resp.body));
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        _ => "Error",
    }
}

/// Run a batch. Returns (status, content type, body).
pub fn run(db: &mut Db, content_type: &str, body: &str) -> (u16, String, String) {
    let Some(b) = boundary(content_type) else {
        let e = error(
            400,
            "0x80040203",
            "The batch request must have a multipart/mixed content type with a boundary.",
        );
        return (400, "application/json".into(), e.body.to_string());
    };
    let api = format!("{}/api/data/v9.2/", db.base_url);
    let answer = format!("batchresponse_{}", Uuid::new_v4());
    let mut out = String::new();
    let mut status = 200;
    for section in sections(body, &b) {
        let (headers, inner) = split_headers(section);
        let ct = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if ct.starts_with("multipart/mixed") {
            let Some(cs) = boundary(&ct) else { continue };
            let snapshot = db.clone();
            let cs_answer = format!("changesetresponse_{}", Uuid::new_v4());
            let mut part_out = String::new();
            let mut refs: Vec<(String, String)> = Vec::new();
            let mut failed: Option<(Resp, Option<String>)> = None;
            for part in sections(inner, &cs) {
                let mut p = match parse_request(part, &api) {
                    Ok(p) => p,
                    Err(e) => {
                        failed = Some((e, None));
                        break;
                    }
                };
                if p.req.method == "GET" {
                    failed = Some((
                        error(
                            400,
                            "0x80040203",
                            "GET requests are not allowed inside a change set.",
                        ),
                        p.content_id.clone(),
                    ));
                    break;
                }
                for (id, url) in &refs {
                    p.req.path = p.req.path.replace(&format!("${id}"), url);
                    if let Some(body) = &p.req.body {
                        let text = body
                            .to_string()
                            .replace(&format!("\"${id}\""), &format!("\"/{url}\""));
                        p.req.body = serde_json::from_str(&text).ok();
                    }
                }
                let resp = db.execute(&p.req);
                if resp.status >= 400 {
                    failed = Some((resp, p.content_id.clone()));
                    break;
                }
                if let (Some(id), Some((_, loc))) = (
                    &p.content_id,
                    resp.headers.iter().find(|(k, _)| k == "Location"),
                ) {
                    refs.push((
                        id.clone(),
                        loc.rsplit("/api/data/v9.2/")
                            .next()
                            .unwrap_or(loc)
                            .to_string(),
                    ));
                }
                render(&mut part_out, &cs_answer, &resp, p.content_id.as_deref());
            }
            if let Some((resp, cid)) = failed {
                *db = snapshot;
                // Without continue-on-error the batch stops at the first failure and answers
                // with that part's status (400 in Microsoft's docs; other statuses copied).
                status = resp.status;
                let mut single = String::new();
                render(&mut single, &answer, &resp, cid.as_deref());
                single.push_str(&format!("--{answer}--\r\n"));
                return (
                    status,
                    format!("multipart/mixed; boundary={answer}"),
                    single,
                );
            }
            part_out.push_str(&format!("--{cs_answer}--\r\n"));
            out.push_str(&format!("--{answer}\r\nContent-Type: multipart/mixed; boundary={cs_answer}\r\n\r\n{part_out}"));
        } else {
            let resp = match parse_request(section, &api) {
                Ok(p) => db.execute(&p.req),
                Err(e) => e,
            };
            if resp.status >= 400 {
                status = resp.status;
                let mut single = String::new();
                render(&mut single, &answer, &resp, None);
                single.push_str(&format!("--{answer}--\r\n"));
                return (
                    status,
                    format!("multipart/mixed; boundary={answer}"),
                    single,
                );
            }
            render(&mut out, &answer, &resp, None);
        }
    }
    out.push_str(&format!("--{answer}--\r\n"));
    (status, format!("multipart/mixed; boundary={answer}"), out)
}
