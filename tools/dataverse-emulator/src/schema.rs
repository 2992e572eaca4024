//! The tables the emulator knows, their columns and navigation properties (stock Dataverse
//! values from Microsoft's table reference; see the crate docs).

use std::collections::BTreeMap;

/// A column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Single-line text with a maximum length.
    String(usize),
    /// Multi-line text with a maximum length.
    Memo(usize),
    /// Choice: (value, label).
    Picklist(Vec<(i64, String)>),
    /// Whole number.
    Integer,
    /// Boolean.
    Boolean,
    /// Primary key.
    Id,
    /// Read-only, set by the service.
    System,
}

impl Kind {
    /// `AttributeType` as the metadata reports it.
    pub fn attribute_type(&self) -> &'static str {
        match self {
            Kind::String(_) => "String",
            Kind::Memo(_) => "Memo",
            Kind::Picklist(_) => "Picklist",
            Kind::Integer => "Integer",
            Kind::Boolean => "Boolean",
            Kind::Id => "Uniqueidentifier",
            Kind::System => "String",
        }
    }
}

/// One table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Logical name (`incident`).
    pub logical: &'static str,
    /// Entity set (`incidents`).
    pub set: &'static str,
    /// Primary key column.
    pub key: &'static str,
    /// Object type code (for privilege messages).
    pub otc: u32,
    /// Privilege suffix (`Incident`, `Contact`, `Note`...).
    pub privilege: &'static str,
    /// Columns.
    pub columns: BTreeMap<String, Kind>,
    /// Navigation properties usable with `@odata.bind`: name -> allowed target sets.
    pub navs: BTreeMap<&'static str, Vec<&'static str>>,
}

fn opts(list: &[(i64, &str)]) -> Kind {
    Kind::Picklist(list.iter().map(|(v, l)| (*v, l.to_string())).collect())
}

/// The stock schema.
pub fn stock() -> BTreeMap<&'static str, Table> {
    let mut t = BTreeMap::new();
    let mut incident = Table {
        logical: "incident",
        set: "incidents",
        key: "incidentid",
        otc: 112,
        privilege: "Incident",
        columns: BTreeMap::new(),
        navs: BTreeMap::new(),
    };
    for (c, k) in [
        ("incidentid", Kind::Id),
        ("title", Kind::String(200)),
        ("description", Kind::Memo(2000)),
        ("ticketnumber", Kind::String(100)),
        ("emailaddress", Kind::String(100)),
        ("productserialnumber", Kind::String(100)),
        (
            "caseorigincode",
            opts(&[
                (1, "Phone"),
                (2, "Email"),
                (3, "Web"),
                (2483, "Facebook"),
                (3986, "Twitter"),
                (700610000, "IoT"),
            ]),
        ),
        (
            "prioritycode",
            opts(&[(1, "High"), (2, "Normal"), (3, "Low")]),
        ),
        (
            "casetypecode",
            opts(&[(1, "Question"), (2, "Problem"), (3, "Request")]),
        ),
        ("severitycode", opts(&[(1, "Default Value")])),
        (
            "customersatisfactioncode",
            opts(&[
                (1, "Very Dissatisfied"),
                (2, "Dissatisfied"),
                (3, "Neutral"),
                (4, "Satisfied"),
                (5, "Very Satisfied"),
            ]),
        ),
        (
            "statecode",
            opts(&[(0, "Active"), (1, "Resolved"), (2, "Cancelled")]),
        ),
        (
            "statuscode",
            opts(&[
                (1, "In Progress"),
                (2, "On Hold"),
                (3, "Waiting for Details"),
                (4, "Researching"),
                (5, "Problem Solved"),
                (1000, "Information Provided"),
                (6, "Cancelled"),
                (2000, "Merged"),
            ]),
        ),
        ("createdon", Kind::System),
        ("modifiedon", Kind::System),
    ] {
        incident.columns.insert(c.into(), k);
    }
    incident.navs.insert("customerid_contact", vec!["contacts"]);
    incident.navs.insert("customerid_account", vec!["accounts"]);
    incident.navs.insert("primarycontactid", vec!["contacts"]);
    incident
        .navs
        .insert("ownerid", vec!["systemusers", "teams"]);
    incident.navs.insert("parentcaseid", vec!["incidents"]);
    t.insert("incident", incident);

    let mut contact = Table {
        logical: "contact",
        set: "contacts",
        key: "contactid",
        otc: 2,
        privilege: "Contact",
        columns: BTreeMap::new(),
        navs: BTreeMap::new(),
    };
    for (c, k) in [
        ("contactid", Kind::Id),
        ("firstname", Kind::String(50)),
        ("lastname", Kind::String(50)),
        ("fullname", Kind::System),
        ("emailaddress1", Kind::String(100)),
        ("description", Kind::Memo(2000)),
        ("createdon", Kind::System),
    ] {
        contact.columns.insert(c.into(), k);
    }
    contact.navs.insert("ownerid", vec!["systemusers", "teams"]);
    t.insert("contact", contact);

    let mut note = Table {
        logical: "annotation",
        set: "annotations",
        key: "annotationid",
        otc: 5,
        privilege: "Note",
        columns: BTreeMap::new(),
        navs: BTreeMap::new(),
    };
    for (c, k) in [
        ("annotationid", Kind::Id),
        ("subject", Kind::String(500)),
        ("notetext", Kind::Memo(100_000)),
        ("isdocument", Kind::Boolean),
        ("filename", Kind::String(255)),
        ("mimetype", Kind::String(256)),
        ("documentbody", Kind::Memo(1_073_741_823)),
        ("filesize", Kind::System),
        ("createdon", Kind::System),
    ] {
        note.columns.insert(c.into(), k);
    }
    note.navs.insert("objectid_incident", vec!["incidents"]);
    note.navs.insert("objectid_contact", vec!["contacts"]);
    t.insert("annotation", note);

    let mut queue = Table {
        logical: "queue",
        set: "queues",
        key: "queueid",
        otc: 2020,
        privilege: "Queue",
        columns: BTreeMap::new(),
        navs: BTreeMap::new(),
    };
    for (c, k) in [
        ("queueid", Kind::Id),
        ("name", Kind::String(400)),
        ("createdon", Kind::System),
    ] {
        queue.columns.insert(c.into(), k);
    }
    t.insert("queue", queue);

    let mut item = Table {
        logical: "queueitem",
        set: "queueitems",
        key: "queueitemid",
        otc: 2029,
        // No privileges of their own: prvReadQueue / prvAppendToQueue cover queue items.
        privilege: "Queue",
        columns: BTreeMap::new(),
        navs: BTreeMap::new(),
    };
    for (c, k) in [
        ("queueitemid", Kind::Id),
        ("title", Kind::String(300)),
        ("createdon", Kind::System),
    ] {
        item.columns.insert(c.into(), k);
    }
    item.navs.insert("queueid", vec!["queues"]);
    item.navs.insert("objectid_incident", vec!["incidents"]);
    t.insert("queueitem", item);

    for (logical, set, key, otc, name_col, privilege) in [
        (
            "systemuser",
            "systemusers",
            "systemuserid",
            8,
            "fullname",
            "User",
        ),
        ("team", "teams", "teamid", 9, "name", "Team"),
        ("account", "accounts", "accountid", 1, "name", "Account"),
        (
            "businessunit",
            "businessunits",
            "businessunitid",
            10,
            "name",
            "BusinessUnit",
        ),
    ] {
        let mut tb = Table {
            logical,
            set,
            key,
            otc,
            privilege,
            columns: BTreeMap::new(),
            navs: BTreeMap::new(),
        };
        tb.columns.insert(key.into(), Kind::Id);
        tb.columns.insert(name_col.into(), Kind::String(200));
        tb.columns.insert("createdon".into(), Kind::System);
        t.insert(logical, tb);
    }
    t
}
