//! template.yaml: security and wiring properties, read from the file (no AWS needed), and the
//! sample files under events/.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// Actions that support no resource-level scoping, the only ones allowed `Resource: "*"`:
/// X-Ray's trace upload and CloudWatch's custom metrics accept only `*` (IAM's service
/// authorization reference lists no resource types for them). None is used today.
const UNSCOPABLE: [&str; 5] = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
    // Comprehend's real-time detection APIs support no resource-level permissions.
    "comprehend:DetectDominantLanguage",
    "comprehend:DetectSentiment",
];

/// Environment variables each function's code reads (README, Configuration).
const INGEST_ENV: [&str; 12] = [
    "FLOOD_SESSIONS",
    "FLOOD_SAME_BODY",
    "ROUTING",
    "HANDOFF_POLICY",
    "EVENT_BUS",
    "MAIL_BUCKET",
    "RAW_PREFIX",
    "INTERNAL_DOMAINS",
    "SUPPORT_ADDRESS",
    "OWN_ADDRESSES",
    "HANDOFF_QUEUE_URL",
    "RUST_LOG",
];
const HANDOFF_ENV: [&str; 16] = [
    "ROUTING",
    "HANDOFF_POLICY",
    "EVENT_BUS",
    "SENTIMENT",
    "HANDOFF_QUEUE_URL",
    "MAIL_BUCKET",
    "DYNAMICS_SECRET_ID",
    "DEFAULT_QUEUE_ID",
    "DEFAULT_OWNER_ID",
    "DEFAULT_PRIORITY",
    "TICKET_PROPERTIES",
    "SESSION_URL_TEMPLATE",
    "SUPPORT_ADDRESS",
    "HANDOFF_ACK",
    "HANDOFF_ACK_TEMPLATE",
    "RUST_LOG",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(repo().join("template.yaml")).expect("read template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// A scalar as text; `!Ref X` -> `X`, `!GetAtt A.Arn` -> `A.Arn`, `!Sub [s, {..}]` -> `s`.
fn text(v: &Value) -> String {
    match v {
        Value::Tagged(t) => text(&t.value),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Sequence(s) if !s.is_empty() => text(&s[0]),
        _ => String::new(),
    }
}

/// A value or a list of values as a list.
fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Tagged(t) if t.tag == "Sub" || t.tag == "Ref" || t.tag == "GetAtt" => {
            vec![v.clone()]
        }
        Value::Tagged(t) => list(&t.value),
        Value::Sequence(s) => s.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

fn texts(v: &Value) -> Vec<String> {
    list(v).iter().map(text).collect()
}

/// Resources of one type, by logical id.
fn resources<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    let map = t["Resources"].as_mapping().expect("Resources");
    map.iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(ty))
        .map(|(k, r)| (text(k), r))
        .collect()
}

/// The template's one resource of type `ty`.
fn only<'a>(t: &'a Value, ty: &str) -> (String, &'a Value) {
    let mut all = resources(t, ty);
    assert_eq!(all.len(), 1, "{ty}");
    all.remove(0)
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert!(!r.is_null(), "template has no resource {id}");
    r
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    resources(t, "AWS::Serverless::Function")
}

/// A function property, falling back to Globals.Function.
fn fn_prop<'a>(t: &'a Value, f: &'a Value, key: &str) -> &'a Value {
    match &f["Properties"][key] {
        Value::Null => &t["Globals"]["Function"][key],
        v => v,
    }
}

/// Statements of every identity policy: inline role policies and AWS::IAM::Policy.
fn identity_statements(t: &Value) -> Vec<(String, Value)> {
    let mut out = vec![];
    for (id, r) in resources(t, "AWS::IAM::Role") {
        for p in list(&r["Properties"]["Policies"]) {
            for s in list(&p["PolicyDocument"]["Statement"]) {
                out.push((id.clone(), s));
            }
        }
        assert!(
            r["Properties"]["ManagedPolicyArns"].is_null(),
            "{id}: managed policies are not reviewable here; use inline statements"
        );
    }
    for (id, r) in resources(t, "AWS::IAM::Policy") {
        for s in list(&r["Properties"]["PolicyDocument"]["Statement"]) {
            out.push((id.clone(), s));
        }
    }
    assert!(!out.is_empty());
    out
}

fn bucket_statements(t: &Value) -> Vec<Value> {
    let policies = resources(t, "AWS::S3::BucketPolicy");
    assert_eq!(policies.len(), 1, "one bucket policy");
    list(&policies[0].1["Properties"]["PolicyDocument"]["Statement"])
}

/// The role a function runs as, which must be declared in the template.
fn role_of<'a>(t: &'a Value, f: &Value) -> (String, &'a Value) {
    let arn = text(&f["Properties"]["Role"]);
    let id = arn
        .strip_suffix(".Arn")
        .unwrap_or_else(|| panic!("Role `{arn}` is not !GetAtt <role>.Arn"));
    let role = resource(t, id);
    assert_eq!(role["Type"].as_str(), Some("AWS::IAM::Role"));
    (id.to_string(), role)
}

fn statements_of_role(t: &Value, role: &str) -> Vec<Value> {
    let mut out: Vec<Value> = identity_statements(t)
        .into_iter()
        .filter(|(id, _)| id == role)
        .map(|(_, s)| s)
        .collect();
    for (_, p) in resources(t, "AWS::IAM::Policy") {
        if texts(&p["Properties"]["Roles"]).iter().any(|r| r == role) {
            out.extend(list(&p["Properties"]["PolicyDocument"]["Statement"]));
        }
    }
    out
}

fn allows(statements: &[Value], action: &str) -> Vec<String> {
    statements
        .iter()
        .filter(|s| {
            text(&s["Effect"]) == "Allow" && texts(&s["Action"]).iter().any(|a| a == action)
        })
        .flat_map(|s| texts(&s["Resource"]))
        .collect()
}

#[test]
fn iam_allows_no_wildcard_actions_or_resources() {
    let t = template();
    for (id, s) in identity_statements(&t) {
        assert_eq!(text(&s["Effect"]), "Allow", "{id}: {s:?}");
        assert!(
            s["NotAction"].is_null() && s["NotResource"].is_null(),
            "{id}: {s:?}"
        );
        let actions = texts(&s["Action"]);
        assert!(!actions.is_empty(), "{id}: no Action");
        for a in &actions {
            assert!(!a.contains('*'), "{id}: wildcard action {a}");
        }
        let res = texts(&s["Resource"]);
        assert!(!res.is_empty(), "{id}: no Resource");
        for r in &res {
            if r == "*" || r.ends_with(":*") {
                assert!(
                    actions.iter().all(|a| UNSCOPABLE.contains(&a.as_str())),
                    "{id}: Resource {r} for {actions:?}, which can be scoped"
                );
            }
        }
    }
    // SAM would add managed policies (SQS polling on "*") to a role it generates: every function
    // runs as a role declared here, without SAM policies.
    for (name, f) in functions(&t) {
        role_of(&t, f);
        assert!(
            f["Properties"]["Policies"].is_null(),
            "{name}: Policies next to Role"
        );
    }
}

#[test]
fn bucket_is_private_encrypted_and_tls_only() {
    let t = template();
    let (id, b) = &only(&t, "AWS::S3::Bucket");
    let p = &b["Properties"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            p["PublicAccessBlockConfiguration"][k].as_bool(),
            Some(true),
            "{k}"
        );
    }
    let sse: Vec<String> = list(&p["BucketEncryption"]["ServerSideEncryptionConfiguration"])
        .iter()
        .map(|r| text(&r["ServerSideEncryptionByDefault"]["SSEAlgorithm"]))
        .collect();
    assert!(
        sse.iter().any(|a| a == "AES256" || a == "aws:kms"),
        "no default encryption"
    );
    let lifecycle = list(&p["LifecycleConfiguration"]["Rules"]);
    assert!(
        lifecycle.iter().any(|r| text(&r["Prefix"]) == "raw/"
            && text(&r["Status"]) == "Enabled"
            && !r["ExpirationInDays"].is_null()),
        "raw/ does not expire"
    );
    let tls = bucket_statements(&t).into_iter().find(|s| {
        text(&s["Effect"]) == "Deny"
            && text(&s["Principal"]) == "*"
            && text(&s["Condition"]["Bool"]["aws:SecureTransport"]) == "false"
    });
    let tls = tls.expect("no TLS-only deny statement");
    assert_eq!(texts(&tls["Action"]), ["s3:*"]);
    let res = texts(&tls["Resource"]);
    let arn = format!("{id}.Arn");
    assert!(
        res.contains(&arn) && res.contains(&format!("${{{arn}}}/*")),
        "{res:?}"
    );
}

#[test]
fn ses_writes_only_raw_mail_for_our_rule() {
    let t = template();
    let ses: Vec<Value> = bucket_statements(&t)
        .into_iter()
        .filter(|s| text(&s["Principal"]["Service"]) == "ses.amazonaws.com")
        .collect();
    assert_eq!(ses.len(), 1);
    let s = &ses[0];
    assert_eq!(text(&s["Effect"]), "Allow");
    assert_eq!(texts(&s["Action"]), ["s3:PutObject"]);
    assert_eq!(texts(&s["Resource"]), ["${MailBucket.Arn}/raw/*"]);
    let cond = &s["Condition"]["StringEquals"];
    assert_eq!(text(&cond["AWS:SourceAccount"]), "AWS::AccountId");
    let source_arn = &cond["AWS:SourceArn"];
    let rule = &resource(&t, "ReceiptRule")["Properties"]["Rule"];
    assert!(
        text(source_arn).ends_with(&format!(":receipt-rule/{}", text(&rule["Name"]))),
        "SourceArn {source_arn:?} is not the receipt rule"
    );

    // The receipt rule: raw mail under the same prefix, then ingest, asynchronously.
    let actions = list(&rule["Actions"]);
    assert_eq!(actions.len(), 2);
    assert_eq!(text(&actions[0]["S3Action"]["ObjectKeyPrefix"]), "raw/");
    let lambda = &actions[1]["LambdaAction"];
    assert_eq!(text(&lambda["FunctionArn"]), "IngestFunction.Arn");
    assert_eq!(text(&lambda["InvocationType"]), "Event");
    assert_eq!(rule["ScanEnabled"].as_bool(), Some(true));
    assert_eq!(text(&rule["TlsPolicy"]), "Require");
    assert_eq!(texts(&rule["Recipients"]), ["ForwardingAddress"]);
    let ingest_env = &resource(&t, "IngestFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(text(&ingest_env["RAW_PREFIX"]), "raw/");

    // SES may invoke ingest only for this rule of this account; SES checks both when the rule
    // is created, so the rule waits for them.
    let perms = resources(&t, "AWS::Lambda::Permission");
    assert!(!perms.is_empty());
    for (id, p) in &perms {
        let p = &p["Properties"];
        assert!(!p["SourceAccount"].is_null(), "{id}: no SourceAccount");
        assert!(!p["SourceArn"].is_null(), "{id}: no SourceArn");
        if text(&p["Principal"]) == "ses.amazonaws.com" {
            assert_eq!(
                &p["SourceArn"], source_arn,
                "{id}: SourceArn differs from the bucket's"
            );
            assert_eq!(text(&p["SourceAccount"]), "AWS::AccountId");
            let depends = texts(&resource(&t, "ReceiptRule")["DependsOn"]);
            assert!(depends.contains(id), "ReceiptRule does not depend on {id}");
        }
    }
    let depends = texts(&resource(&t, "ReceiptRule")["DependsOn"]);
    let (policy, _) = &resources(&t, "AWS::S3::BucketPolicy")[0];
    assert!(
        depends.contains(policy),
        "ReceiptRule does not depend on {policy}"
    );
}

#[test]
fn handoff_queue_has_dead_letters_and_partial_batch_failures() {
    let t = template();
    let handoff = resource(&t, "HandoffFunction");
    let sqs_events: Vec<&Value> = handoff["Properties"]["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|e| text(&e["Type"]) == "SQS")
        .collect();
    assert_eq!(sqs_events.len(), 1);
    let e = &sqs_events[0]["Properties"];
    assert!(texts(&e["FunctionResponseTypes"]).contains(&"ReportBatchItemFailures".into()));
    let concurrency = text(&e["ScalingConfig"]["MaximumConcurrency"]);
    assert!(!concurrency.is_empty(), "no MaximumConcurrency");
    if let Some(p) = t["Parameters"].get(concurrency.as_str()) {
        assert!(p["MinValue"].as_u64().unwrap() >= 2);
        assert!(p["Default"].as_u64().unwrap() >= 2);
    } else {
        assert!(concurrency.parse::<u64>().unwrap() >= 2);
    }

    let queue_id = text(&e["Queue"]).trim_end_matches(".Arn").to_string();
    let q = &resource(&t, &queue_id)["Properties"];
    let dlq = text(&q["RedrivePolicy"]["deadLetterTargetArn"]);
    let dlq = dlq.trim_end_matches(".Arn");
    assert_eq!(resource(&t, dlq)["Type"].as_str(), Some("AWS::SQS::Queue"));
    assert!(!q["RedrivePolicy"]["maxReceiveCount"].is_null());
    let timeout = fn_prop(&t, handoff, "Timeout").as_u64().unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().unwrap();
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility} < 6 x {timeout}"
    );

    // The role may consume exactly that queue; ingest may send follow-ups to it.
    let (role, _) = role_of(&t, handoff);
    let arn = format!("{queue_id}.Arn");
    for a in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ] {
        assert_eq!(
            allows(&statements_of_role(&t, &role), a),
            std::slice::from_ref(&arn),
            "{a}"
        );
    }
    let (ingest_role, _) = role_of(&t, resource(&t, "IngestFunction"));
    assert!(allows(&statements_of_role(&t, &ingest_role), "sqs:SendMessage").contains(&arn));
}

#[test]
fn async_failures_are_kept() {
    let t = template();
    for (name, f) in functions(&t) {
        let c = &f["Properties"]["EventInvokeConfig"];
        assert_eq!(c["MaximumRetryAttempts"].as_u64(), Some(2), "{name}");
        let dest = &c["DestinationConfig"]["OnFailure"];
        assert_eq!(text(&dest["Type"]), "SQS", "{name}");
        let queue = text(&dest["Destination"]);
        let queue = queue.trim_end_matches(".Arn");
        assert_eq!(
            resource(&t, queue)["Type"].as_str(),
            Some("AWS::SQS::Queue")
        );
        // Lambda sends to the destination with the function's role.
        let (role, _) = role_of(&t, f);
        let send = allows(&statements_of_role(&t, &role), "sqs:SendMessage");
        assert!(send.contains(&format!("{queue}.Arn")), "{name}: {send:?}");
    }
}

#[test]
fn functions_are_rust_on_al2023_arm64_with_json_logs() {
    let t = template();
    let fs = functions(&t);
    assert_eq!(fs.len(), 2);
    let mut binaries = BTreeSet::new();
    for (name, f) in &fs {
        assert_eq!(text(fn_prop(&t, f, "Runtime")), "provided.al2023", "{name}");
        assert_eq!(texts(fn_prop(&t, f, "Architectures")), ["arm64"], "{name}");
        assert_eq!(text(fn_prop(&t, f, "Handler")), "bootstrap", "{name}");
        assert_eq!(
            text(&fn_prop(&t, f, "LoggingConfig")["LogFormat"]),
            "JSON",
            "{name}"
        );
        assert_eq!(
            text(&f["Metadata"]["BuildMethod"]),
            "rust-cargolambda",
            "{name}"
        );
        let bin = text(&f["Metadata"]["BuildProperties"]["Binary"]);
        // CodeUri is the Cargo package whose binary this is.
        let dir = repo().join(text(&f["Properties"]["CodeUri"]));
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{bin}\"")),
            "{name}: {bin}"
        );
        assert!(dir.join("src/main.rs").exists(), "{name}: no binary");
        binaries.insert(bin);
    }
    assert_eq!(
        binaries,
        BTreeSet::from(["handoff".into(), "ingest".into()])
    );
}

/// String literals like `"MAIL_BUCKET"` in a function's own code: the variables it reads.
fn env_names_in_code(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        let code = std::fs::read_to_string(&path).expect("source file");
        for (i, _) in code.match_indices('"') {
            let rest = &code[i + 1..];
            let len = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..len];
            if rest[len..].starts_with('"') && name.contains('_') && !name.starts_with("AWS_") {
                out.insert(name.to_string());
            }
        }
    }
    assert!(
        !out.is_empty(),
        "no variable names found in {}",
        dir.display()
    );
    out
}

#[test]
fn declares_every_environment_variable() {
    let t = template();
    for (id, expected, dir) in [
        ("IngestFunction", &INGEST_ENV[..], "functions/ingest/src"),
        ("HandoffFunction", &HANDOFF_ENV[..], "functions/handoff/src"),
    ] {
        let vars = &resource(&t, id)["Properties"]["Environment"]["Variables"];
        let declared: BTreeSet<String> = vars.as_mapping().unwrap().keys().map(text).collect();
        for k in expected {
            assert!(declared.contains(*k), "{id}: {k} not declared");
        }
        for k in env_names_in_code(&repo().join(dir)) {
            assert!(
                declared.contains(&k),
                "{id}: {k} read in {dir} but not declared"
            );
        }
    }
    let handoff = &resource(&t, "HandoffFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(text(&handoff["HANDOFF_ACK"]), "HandoffAck");
    assert_eq!(text(&t["Parameters"]["HandoffAck"]["Default"]), "false");
}

#[test]
fn secret_is_an_empty_placeholder_read_only_by_handoff() {
    let t = template();
    let (id, s) = &only(&t, "AWS::SecretsManager::Secret");
    assert_eq!(
        text(&s["Condition"]),
        "CreateSecret",
        "an existing secret can be used"
    );
    let placeholder: serde_json::Value =
        serde_json::from_str(&text(&s["Properties"]["SecretString"])).unwrap();
    let obj = placeholder.as_object().unwrap();
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["tenant_id", "client_id", "client_secret", "environment_url"])
    );
    assert!(
        obj.values().all(|v| v == ""),
        "the placeholder holds a value"
    );

    let handoff = resource(&t, "HandoffFunction");
    let secret_ref = &handoff["Properties"]["Environment"]["Variables"]["DYNAMICS_SECRET_ID"];
    assert_eq!(
        text(&secret_ref[1]),
        *id,
        "DYNAMICS_SECRET_ID is not the secret"
    );
    let (role, _) = role_of(&t, handoff);
    let scopes: Vec<Value> = statements_of_role(&t, &role)
        .into_iter()
        .filter(|s| {
            texts(&s["Action"])
                .iter()
                .any(|a| a.starts_with("secretsmanager:"))
        })
        .map(|s| s["Resource"].clone())
        .collect();
    assert_eq!(
        scopes,
        std::slice::from_ref(secret_ref),
        "secret access is not scoped to DYNAMICS_SECRET_ID"
    );
    let (ingest_role, _) = role_of(&t, resource(&t, "IngestFunction"));
    let ingest = statements_of_role(&t, &ingest_role);
    assert!(allows(&ingest, "secretsmanager:GetSecretValue").is_empty());
}

#[test]
fn s3_writes_and_mail_sending_are_scoped_to_what_the_code_does() {
    let t = template();
    let under = |key: &str| format!("${{MailBucket.Arn}}/{}*", &key[..=key.find('/').unwrap()]);
    let sessions = under(&store::layout::message("mc-1", "k"));
    let index = under(&store::layout::message_id_index("m@example.com"));
    let ingest_writes = [
        sessions.clone(),
        index.clone(),
        under(store::layout::UNFILED_PREFIX),
        under(store::layout::REJECTED_PREFIX),
        under(store::layout::FAILURES_PREFIX),
    ];
    let failures = under(store::layout::FAILURES_PREFIX);
    for (id, writes) in [
        ("IngestFunction", &ingest_writes[..]),
        ("HandoffFunction", &[sessions, index, failures][..]),
    ] {
        let (role, _) = role_of(&t, resource(&t, id));
        let statements = statements_of_role(&t, &role);
        let mut puts = allows(&statements, "s3:PutObject");
        puts.sort();
        let mut expected = writes.to_vec();
        expected.sort();
        // Exactly the prefixes the code writes: never raw/ (SES's copy) nor the whole bucket.
        assert_eq!(puts, expected, "{id}");
        assert_eq!(
            allows(&statements, "s3:ListBucket"),
            ["MailBucket.Arn"],
            "{id}"
        );
        assert_eq!(
            allows(&statements, "s3:GetObject"),
            ["${MailBucket.Arn}/*"],
            "{id}"
        );
    }

    // Outbound mail only from SupportAddress's domain identity.
    let (role, _) = role_of(&t, resource(&t, "HandoffFunction"));
    let statements = statements_of_role(&t, &role);
    for a in ["ses:SendEmail", "ses:SendRawEmail"] {
        let res = allows(&statements, a);
        assert!(!res.is_empty(), "handoff may not {a}");
        assert!(
            res.iter().all(|r| r.contains(":identity/${Domain}")),
            "{a}: {res:?}"
        );
    }
    let (ingest_role, _) = role_of(&t, resource(&t, "IngestFunction"));
    assert!(allows(&statements_of_role(&t, &ingest_role), "ses:SendEmail").is_empty());
}

#[test]
fn outputs_tell_the_operator_what_to_do() {
    let t = template();
    let out = &t["Outputs"];
    for k in [
        "MailBucketName",
        "HandoffQueueUrl",
        "HandoffDeadLetterQueueUrl",
        "IngestFunctionName",
        "HandoffFunctionName",
        "DynamicsSecretArn",
        "ReceiptRuleSetName",
        "ForwardMailTo",
    ] {
        assert!(!out[k]["Value"].is_null(), "no output {k}");
    }
    let activate = text(&out["ActivateRuleSetCommand"]["Value"]);
    assert!(
        activate.starts_with("aws ses set-active-receipt-rule-set "),
        "{activate}"
    );
    assert!(activate.contains("--rule-set-name ${Set}"), "{activate}");
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("events directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn sample_events_parse_and_env_json_names_declared_variables() {
    let mut files = vec![];
    json_files(&repo().join("events"), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    let t = template();
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("events/env.json")).unwrap())
            .unwrap();
    let env = env.as_object().unwrap();
    let ids: BTreeSet<String> = functions(&t).into_iter().map(|(id, _)| id).collect();
    assert_eq!(env.keys().cloned().collect::<BTreeSet<_>>(), ids);
    for (id, vars) in env {
        let declared = &resource(&t, id)["Properties"]["Environment"]["Variables"];
        for (k, v) in vars.as_object().unwrap() {
            assert!(v.is_string(), "{id}.{k} is not a string");
            // AWS_* are the SDK's own settings (endpoint, region, credentials).
            assert!(
                k.starts_with("AWS_") || declared.get(k.as_str()).is_some(),
                "events/env.json: {id}.{k} is not declared in template.yaml"
            );
        }
    }
}

#[test]
fn queues_are_encrypted_and_alarms_notify_the_topic() {
    let t = template();
    let queues = resources(&t, "AWS::SQS::Queue");
    assert_eq!(queues.len(), 3, "{queues:?}");
    for (id, q) in &queues {
        assert_eq!(
            q["Properties"]["SqsManagedSseEnabled"],
            Value::Bool(true),
            "{id} is not SSE-SQS encrypted"
        );
    }
    let alarms = resources(&t, "AWS::CloudWatch::Alarm");
    let watched = |metric: &str, dimension: &str, target: &str| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            text(&p["MetricName"]) == metric
                && list(&p["Dimensions"])
                    .iter()
                    .any(|d| text(&d["Name"]) == dimension && text(&d["Value"]).starts_with(target))
        })
    };
    assert!(watched(
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        "HandoffDeadLetterQueue"
    ));
    assert!(watched(
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        "FailedInvocationsQueue"
    ));
    for f in ["IngestFunction", "HandoffFunction"] {
        for metric in ["Errors", "Throttles"] {
            assert!(
                watched(metric, "FunctionName", f),
                "no {metric} alarm on {f}"
            );
        }
    }
    for (id, a) in &alarms {
        let p = &a["Properties"];
        assert_eq!(texts(&p["AlarmActions"]), ["AlarmTopic"], "{id}");
        // Idle queues and functions publish no data: that is not an alarm.
        assert_eq!(text(&p["TreatMissingData"]), "notBreaching", "{id}");
    }
    let (_, sub) = only(&t, "AWS::SNS::Subscription");
    assert_eq!(text(&sub["Condition"]), "HasAlarmEmail");
    assert_eq!(text(&sub["Properties"]["Protocol"]), "email");
    assert_eq!(
        t["Parameters"]["AlarmEmail"]["Default"],
        Value::String(String::new())
    );
    let out = &t["Outputs"];
    for k in [
        "HandoffDeadLetterQueueArn",
        "HandoffDeadLetterQueueUrl",
        "AlarmTopicArn",
    ] {
        assert!(!out[k]["Value"].is_null(), "no output {k}");
    }
}

#[test]
fn aws_endpoint_url_is_declared_empty_for_sam_local() {
    let t = template();
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("events/env.json")).unwrap())
            .unwrap();
    for (id, _) in functions(&t) {
        let declared = &resource(&t, &id)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            declared["AWS_ENDPOINT_URL"],
            Value::String(String::new()),
            "{id}"
        );
        assert!(
            env[&id]["AWS_ENDPOINT_URL"]
                .as_str()
                .is_some_and(|u| u.starts_with("http://127.0.0.1:")),
            "events/env.json: {id}.AWS_ENDPOINT_URL"
        );
    }
}

#[test]
fn checkov_skips_carry_a_reason() {
    let t = template();
    let mut skipped = 0;
    for (id, r) in t["Resources"].as_mapping().unwrap() {
        for s in list(&r["Metadata"]["checkov"]["skip"]) {
            skipped += 1;
            let reason = text(&s["comment"]);
            assert!(
                text(&s["id"]).starts_with("CKV_") && reason.len() > 40,
                "{}: skip without a reason: {s:?}",
                text(id)
            );
        }
    }
    assert!(skipped > 0);
}

/// `key = value` lines of one `[section]` of a TOML file (enough for Cargo.toml's profiles).
fn toml_section(text: &str, section: &str) -> BTreeMap<String, String> {
    let header = format!("[{section}]");
    text.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.trim_start().starts_with('#'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

#[test]
fn sam_build_gets_the_lambda_profile_and_both_profiles_keep_unwinding() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    let release = toml_section(&manifest, "profile.release");
    let lambda = toml_section(&manifest, "profile.lambda");
    // The runtime's panic layer and mail::parse's catch_unwind need unwinding; cargo-lambda
    // would put "abort" into a release build whose profile leaves panic unset.
    assert_eq!(release.get("panic").map(String::as_str), Some("unwind"));
    assert_eq!(lambda.get("panic").map(String::as_str), Some("unwind"));
    assert_eq!(release.get("strip").map(String::as_str), Some("true"));
    assert_eq!(lambda.get("inherits").map(String::as_str), Some("release"));
    // SAM always builds --release: tools/sam-build.sh must give it the lambda profile's settings.
    let script = std::fs::read_to_string(repo().join("tools/sam-build.sh")).expect("sam-build.sh");
    for (key, env) in [
        ("lto", "LTO"),
        ("codegen-units", "CODEGEN_UNITS"),
        ("opt-level", "OPT_LEVEL"),
    ] {
        let value = lambda
            .get(key)
            .unwrap_or_else(|| panic!("profile.lambda sets {key}"));
        let line = format!("export CARGO_PROFILE_RELEASE_{env}={value}");
        assert!(
            script.lines().any(|l| l.trim() == line),
            "tools/sam-build.sh lacks {line}"
        );
    }
    let build =
        std::fs::read_to_string(repo().join("tools/lambda-build.sh")).expect("lambda-build.sh");
    assert!(build.contains("cargo lambda build --profile lambda"));
}
