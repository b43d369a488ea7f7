"""Tables of the central registry (SQLAlchemy Core). Migrations under migrations/ create
exactly these; tests check that the two agree on SQLite and PostgreSQL.

The 個人番号 appears only as a keyed hash (`my_number_hash`, see security.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def Code(length: int) -> String:  # noqa: N802 (a type, like String)
    """A code compared byte by byte: COLLATE "C" on PostgreSQL (migration 0012), SQLite's own
    BINARY elsewhere. For the registry's keys (the 個人番号 hash, card serials, insurer numbers,
    記号・番号・枝番): their order is the code points' on both databases, whatever the server's
    locale, and PostgreSQL sorts and compares them without the locale (abbreviated keys), which
    builds the seed's key indexes 1.5-4 times faster on 10 million people (README "Benchmarks")."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


insurer = Table(
    "insurer",
    metadata,
    Column("number", Code(8), primary_key=True),  # 6 (国保) or 8 digits, no padding
    Column("name", String(100), nullable=False),
    Column("kind", String(10), nullable=False),  # kyokai kumiai kyosai kokuho kouki seaman other
    Column("prefecture", SmallInteger, nullable=False),
)

facility = Table(
    "facility",
    metadata,
    Column("code", String(10), primary_key=True),  # 医療機関コード
    Column("name", String(100), nullable=False),
    Column("prefecture", SmallInteger, nullable=False),
    Column("online", Boolean, nullable=False, default=True),
    Column("smartphone", Boolean, nullable=False, default=False),
    Column("mobile_consent", Boolean, nullable=False, default=False),
)

api_key = Table(
    "api_key",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # SHA-256 of the key; the key is never stored
    Column("role", String(10), nullable=False),  # facility | insurer | reviewer | analyst
    Column("subject", String(10), nullable=False),  # facility code, insurer number, 審査支払機関 (1, 2, both)…
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),  # a revoked key authenticates nothing (kept for the record)
)

person = Table(
    "person",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # The individual: identity checked against the resident register (R-I2). What an insurer
    # asserts about its member (name, address, the DV flag) is on that insurer's qualification.
    Column("my_number_hash", Code(64), unique=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger, nullable=False),  # 1 male, 2 female, 3 not set
)

qualification = Table(
    "qualification",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigId, ForeignKey("person.id"), nullable=False),
    Column("insurer_number", Code(8), ForeignKey("insurer.number"), nullable=False),
    Column("symbol", Code(20), nullable=False, default=""),  # 記号
    Column("number", Code(20), nullable=False),  # 番号
    Column("branch", Code(2), nullable=False, default=""),  # 枝番
    Column("relation", String(6), nullable=False),  # self (本人) | family (家族)
    Column("insured_name", String(100)),  # the insured head's name, for a 家族
    Column("card_classification", String(2), nullable=False, default="01"),
    Column("start", Date, nullable=False),  # first day covered
    Column("end", Date),  # last day covered (資格喪失日 is the day after)
    Column("loss_reason", String(2)),  # 01 死亡, 02 生活保護, 03 他の保険の資格取得, 99 その他
    Column("income", String(8), nullable=False, default="general"),  # general | high (現役並み)
    Column("kouki_ratio", SmallInteger),  # 後期高齢者: 10 / 20 / 30 (percent)
    Column("limit_category", String(3)),  # 限度額適用認定 区分 (A01–A06, B01–B10)
    Column("limit_start", Date),
    Column("limit_end", Date),
    Column("limit_issued", Date),  # the 限度額適用認定証's 交付年月日 (LimitApplicationCertificateDate)
    Column("notified", Date),  # the insurer received the notice (届出受理日)
    Column("registered", Date),  # reached the central system; null = not yet (R-I1, F.1)
    # What this insurer asserts about its member; no other insurer can change it.
    Column("name", String(100), nullable=False, default=""),
    Column("kana", String(100), nullable=False, default=""),
    Column("address", String(200)),
    Column("postcode", String(8)),
    # R-D5 / R-I3e 自己情報提供不可フラグ as this insurer set it: while any insurer's flag is set the
    # person's address leaves the system in no channel (lookup.dv_protected), until that insurer lifts it.
    Column("dv_flag", Boolean, nullable=False, default=False),
    # R-I3e: where this insurer mails its member's letters when the member gave an address of their
    # own (a DV-flagged member's letters go only there, never to the protected address). Issue 12.
    Column("mailing_address", String(200)),
    Column("mailing_postcode", String(8)),
    Index("ix_qualification_numbers", "insurer_number", "number", "symbol", "branch"),
    Index("ix_qualification_person", "person_id"),
)
# What concurrent writes must not create (partial unique indexes: SQLite and PostgreSQL alike).
Index("uq_qualification_open_member", qualification.c.person_id, qualification.c.insurer_number, unique=True,
      postgresql_where=qualification.c.end.is_(None), sqlite_where=qualification.c.end.is_(None))
Index("uq_qualification_open_numbers", qualification.c.insurer_number, qualification.c.symbol, qualification.c.number,
      qualification.c.branch, unique=True, postgresql_where=qualification.c.end.is_(None), sqlite_where=qualification.c.end.is_(None))

card = Table(
    "card",
    metadata,
    Column("serial", Code(16), primary_key=True),
    Column("person_id", BigId, ForeignKey("person.id"), nullable=False),
    Column("issued", Date, nullable=False),
    Column("card_expires", Date, nullable=False),
    Column("cert_expires", Date, nullable=False),
    Column("insurance_registered", Date),  # 健康保険証利用登録; null = not registered
    Column("revoked", Date),  # replaced or returned; no longer verifies
    # R-I3c (issue 12): 利用登録解除 (insurance_registered is cleared with it: the card stops
    # answering as マイナ保険証) and カード返納 (revoked with it).
    Column("registration_cancelled", Date),
    Column("returned", Date),
    Index("ix_card_person", "person_id"),
)
Index("uq_card_current", card.c.person_id, unique=True, postgresql_where=card.c.revoked.is_(None), sqlite_where=card.c.revoked.is_(None))

document = Table(
    "document",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigId, ForeignKey("person.id"), nullable=False),
    Column("qualification_id", BigId, ForeignKey("qualification.id")),
    Column("kind", String(24), nullable=False),  # eligibility_certificate | notice | registration_notice | insurance_card
    Column("form", String(10)),  # card | postcard | a4 | electronic
    Column("issued", Date),  # 交付年月日
    Column("valid_from", Date),  # 有効開始年月日 (null: from the issue date)
    Column("expires", Date),  # 有効終了年月日 (null: no end printed); a replacement sets it (document_end)
    # Issued by an issuance run (issue 12): the rule IDs that decided it and the run it came from.
    Column("rules", String(200)),
    Column("run_id", BigId),
    Index("ix_document_person", "person_id"),
    Index("ix_document_qualification", "qualification_id"),
    Index("ix_document_run", "run_id"),
    Index("ix_document_expires", "expires"),  # the run's renewal window (issuance/candidates.py)
)
# A run sends a member at most one document of a kind a day (R-I6a): a restarted or concurrent
# run cannot record one twice.
Index("uq_document_run_issue", document.c.qualification_id, document.c.kind, document.c.issued, unique=True,
      postgresql_where=document.c.run_id.is_not(None), sqlite_where=document.c.run_id.is_not(None))

resident = Table(
    "resident",
    metadata,
    # 住民基本台帳: what the municipality holds per 個人番号 (R-I2)
    Column("my_number_hash", Code(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kana", String(100), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger, nullable=False),
    Column("address", String(200), nullable=False),
)

operation = Table(
    "operation",
    metadata,
    # Insurer writes: idempotency by request id, and the R-I1 deadline record.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("insurer_number", String(8), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("payload_digest", String(64), nullable=False),
    Column("response", Text, nullable=False),
    Column("person_id", BigId),
    Column("qualification_id", BigId),
    Column("notified", Date),
    Column("registered", Date, nullable=False),
    Column("deadline_days", SmallInteger),
    Column("days_taken", Integer),
    Column("deadline_met", Boolean),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("insurer_number", "request_id", name="uq_operation_request"),
)

verification = Table(
    "verification",
    metadata,
    # Append-only: every lookup, whatever the channel. Triggers refuse UPDATE and DELETE.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("facility_code", String(10), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("method", String(16), nullable=False),  # my_number_card | smartphone | number_inquiry
    Column("identity", String(8)),  # face | pin | visual
    Column("result", String(16), nullable=False),  # valid invalid invalid_new not_found multiple error
    Column("error", String(32)),
    Column("person_id", BigId),
    Column("qualification_id", BigId),
    Column("channel", String(8), nullable=False, default="api"),  # api | xml | web | cli | sim (onshi simulate)
    Column("limit_consent", Boolean),  # the patient consented to 限度額 data (FHIR Coverage read)
    Index("ix_verification_facility_at", "facility_code", "at"),
    Index("ix_verification_facility_person", "facility_code", "person_id"),
    Index("ix_verification_as_of", "as_of", "id"),  # the month's rates and the summary's watermark (stats/, migrations 0009, 0011)
)

visit = Table(
    "visit",
    metadata,
    # A patient's visit at a facility's desk and what the desk decided (frontdesk/); the
    # basis of the month's claims (claims/) and of the usage statistics (stats/).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("facility_code", String(10), nullable=False),
    Column("patient_ref", String(50), nullable=False),  # the facility's own patient number (カルテ番号)
    Column("at", DateTime(timezone=True), nullable=False),
    Column("care_date", Date, nullable=False),
    Column("person_id", BigId),  # the registry's person when a lookup identified them
    Column("name", String(100)),
    Column("kana", String(100)),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger),
    Column("relation", String(6)),  # self | family (R-E4)
    Column("presented", String(200), nullable=False),  # space-separated document kinds
    Column("device", String(16), nullable=False),
    Column("identity", String(8)),
    Column("insured", Boolean, nullable=False),
    Column("copay_percent", SmallInteger, nullable=False),
    Column("basis", String(12), nullable=False),  # current document declared lost past_record unknown self_pay
    Column("insurer_number", String(8)),
    Column("symbol", String(20), nullable=False, default=""),
    Column("number", String(20), nullable=False, default=""),
    Column("branch", String(2), nullable=False, default=""),
    Column("qualification_id", BigId),
    Column("verification_method", String(16), nullable=False),
    Column("verification_result", String(16), nullable=False),
    Column("rules", String(200), nullable=False, default=""),
    Column("decision", Text, nullable=False),  # the full decision (JSON)
    Column("remarks", Text),  # 不詳 remarks (JSON, R-E1): contact, employer, insurance kind…
    Column("public_payer", String(8)),  # 公費負担者番号 when a 公費 (public expense) goes with the insurance
    Column("public_recipient", String(7)),  # its 受給者番号
    # What the desk was given (the VisitRequest as JSON): enough to decide the visit again under
    # another policy (stats/whatif.py). Null for visits recorded before migration 0009.
    Column("request", Text),
    Index("ix_visit_facility_date", "facility_code", "care_date"),
    Index("ix_visit_facility_patient", "facility_code", "patient_ref"),
)

reference_number = Table(
    "reference_number",
    metadata,
    # 照会番号: a facility's own patient number registered against 被保険者番号等 (OQSsiimm01 /
    # OQSmuimm01). It cannot be queried by; it comes back in that facility's results.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("facility_code", String(10), nullable=False),
    Column("reference_number", String(50), nullable=False),
    Column("insurer_number", String(8), nullable=False),  # normalised: 6 (国保) or 8 digits
    Column("symbol", String(20), nullable=False, default=""),
    Column("number", String(20), nullable=False),
    Column("branch", String(2), nullable=False, default=""),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("facility_code", "insurer_number", "number", "symbol", "branch", name="uq_reference_number_numbers"),
)

bulk_request = Table(
    "bulk_request",
    metadata,
    # 一括照会 (OQSmuquc01) and 一括照会番号登録 (OQSmuimm01): the request as received and, once
    # processed, the answer, so that the second round trip survives a restart.
    Column("reception_number", String(20), primary_key=True),  # 受付番号
    Column("facility_code", String(10), nullable=False),
    Column("kind", String(12), nullable=False),  # inquiry | registration
    Column("status", String(10), nullable=False),  # received | processing | done | failed
    Column("as_of", Date),  # QualificationConfirmationDate of an inquiry
    Column("entries", Integer, nullable=False),
    Column("request", Text, nullable=False),  # the entries and header echo (JSON)
    Column("result", Text),  # the answer's units (XML fragment), once done
    Column("normal", Integer),  # NumberOfNormalProcessing
    Column("errors", Integer),  # NumberOfError
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_bulk_request_status", "status"),
)

setting = Table(
    "setting",
    metadata,
    # Deployment settings kept in the database: the pages' session secret when none is
    # configured (random, made once), the demo marker of `onshi seed`.
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

web_session = Table(
    "web_session",
    metadata,
    # A signed-in session of the reception pages. The cookie holds the id; only its SHA-256 is
    # here. Logout deletes the row; a revoked key ends its sessions (joined on every page).
    Column("id_hash", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_web_session_key", "key_hash"),
)

# ---------------------------------------------------------------- issuance (migration 0010, issuance/)

issuance_setting = Table(
    "issuance_setting",
    metadata,
    # An insurer's issuance settings: the validated InsurerOptions (issuance.models, `stored()` JSON:
    # only what the insurer set, the rest is the policy default of its kind) and what it prints.
    Column("insurer_number", Code(8), ForeignKey("insurer.number"), primary_key=True),
    Column("options", Text, nullable=False, default="{}"),
    Column("certificate_form", String(8), nullable=False, default="card"),  # card | postcard | a4 (seed 002)
    Column("issuer_name", String(100)),  # 交付者名 (default: from the insurer's name)
    Column("sender_postcode", String(8)),
    Column("sender_address", String(200)),
    Column("phone", String(20)),
    Column("updated_at", DateTime(timezone=True)),
)

member_event = Table(
    "member_event",
    metadata,
    # What the insurer operations did that the issuance rules react to (R-I4a, R-I4b, R-I5, R-I7c):
    # acquisition, numbers_changed, name_changed, copay_changed, registration_done, loss.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("qualification_id", BigId, ForeignKey("qualification.id"), nullable=False),
    Column("insurer_number", String(8), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("date", Date, nullable=False),  # the day it takes effect
    Column("recorded", Date, nullable=False),  # the day the insurer recorded it (a run sees it from then)
    Index("ix_member_event_qualification", "qualification_id"),
    Index("ix_member_event_recorded", "recorded"),
)

certificate_application = Table(
    "certificate_application",
    metadata,
    # 資格確認書の交付申請 (R-I3f, R-I3g) and what the runs decided about it.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("qualification_id", BigId, ForeignKey("qualification.id"), nullable=False),
    Column("insurer_number", String(8), nullable=False),
    Column("date", Date, nullable=False),  # the day it was made
    Column("reason", String(12), nullable=False),  # care | card_lost | card_renewal | other
    Column("recorded", Date, nullable=False),
    Column("decision", String(10)),  # granted | refused | ended | not_needed (null: not decided yet)
    Column("decided", Date),  # the run day of that decision
    Column("decided_run", BigId),
    UniqueConstraint("qualification_id", "date", "reason", name="uq_certificate_application"),
    Index("ix_certificate_application_qualification", "qualification_id"),
)

issuance_run = Table(
    "issuance_run",
    metadata,
    # One run of `onshi issuance run` (or its HTTP twin, or the seed's history): one insurer or all
    # ('*'), one run day. Committed per batch with its documents, so a killed run resumes.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("scope", String(8), nullable=False),  # an insurer number, or '*' for every insurer
    Column("run_date", Date, nullable=False),
    Column("status", String(8), nullable=False),  # running | done | failed
    Column("origin", String(8), nullable=False),  # cli | http | seed
    Column("request_id", String(64)),  # HTTP: the client's idempotency key
    Column("owner", String(120)),  # host:pid of the process running it (a dead owner's run is resumed)
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("candidates", Integer),  # members selected by the SQL (of the last attempt)
    Column("summary", Text, nullable=False, default="{}"),  # counts by kind, rule, end and application (JSON)
    Column("warnings", Text, nullable=False, default="[]"),  # the first warnings of the engine and the printing (JSON)
    Column("error", Text),
    UniqueConstraint("scope", "request_id", name="uq_issuance_run_request"),
    Index("ix_issuance_run_scope_date", "scope", "run_date"),
)
# One live run per scope: a second start is refused (409), a killed one is resumed.
Index("uq_issuance_run_live", issuance_run.c.scope, unique=True,
      postgresql_where=issuance_run.c.status == "running", sqlite_where=issuance_run.c.status == "running")

document_end = Table(
    "document_end",
    metadata,
    # A held document a run ended (R-I7a–d): its former and new last day, the rules, and the
    # document that replaced it (null: it ended without one, R-I7c / R-I7d). A run ends a
    # document once; a later run may renew it again (R-I6a 3b behind an お知らせ).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("document_id", BigId, ForeignKey("document.id"), nullable=False),
    Column("run_id", BigId, ForeignKey("issuance_run.id"), nullable=False),
    Column("replaced_by", BigId, ForeignKey("document.id")),
    Column("previous_expires", Date),
    Column("valid_until", Date, nullable=False),
    Column("rules", String(60), nullable=False),
    UniqueConstraint("document_id", "run_id", name="uq_document_end"),
    Index("ix_document_end_run", "run_id"),
    Index("ix_document_end_replaced_by", "replaced_by"),  # its foreign key, checked when a document goes
)

TABLES_IN_LOAD_ORDER = (
    insurer, facility, api_key, person, qualification, card, document, resident, operation, verification, visit,
    reference_number, bulk_request, setting, web_session, issuance_setting, member_event, certificate_application,
    issuance_run, document_end,
)

# ---------------------------------------------------------------- claims (migration 0004, claims/)

claim = Table(
    "claim",
    metadata,
    # One monthly claim (レセプト) per facility, patient and qualification billed: built from the
    # desk's visits, read from a UKE file, or re-claimed after a return (R-R4).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("facility_code", String(10), nullable=False),
    Column("payer", String(1), nullable=False),  # 審査支払機関: 1 支払基金 (社保), 2 国保連 (国保, 後期)
    Column("care_month", Date, nullable=False),  # 診療年月 (first day of the month)
    Column("billing_month", Date),  # 請求年月 (first day); null until filed
    Column("receipt_no", Integer),  # レセプト番号 in the file of the billing month and payer; null until filed
    Column("patient_ref", String(50), nullable=False),  # カルテ番号
    Column("basis", String(12)),  # the desk's claim basis; null when read from a UKE file
    Column("receipt_kind", String(4), nullable=False),  # レセプト種別
    Column("insurer_number", String(8), nullable=False),
    Column("symbol", String(20), nullable=False, default=""),
    Column("number", String(20), nullable=False),
    Column("branch", String(2), nullable=False, default=""),
    Column("qualification_id", BigId),  # as the desk decided it (the review goes by the numbers)
    Column("unknown", Boolean, nullable=False),  # 不詳 (R-E8 numbers)
    Column("relation", String(6)),  # self | family; null = not recorded (R-E4)
    Column("name", String(100), nullable=False),
    Column("kana", String(100)),
    Column("birth_date", Date, nullable=False),
    Column("sex", SmallInteger),
    Column("copay_percent", SmallInteger, nullable=False),
    Column("days", SmallInteger, nullable=False),  # 診療実日数
    Column("days_mask", Integer, nullable=False),  # bit d-1 set: care on day d (JD)
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("points", Integer, nullable=False),  # 合計点数 (carried, not computed: no 診療行為 catalogue)
    Column("copay_amount", Integer),  # 一部負担金額 (yen)
    Column("remarks", Text),  # 不詳 remarks (JSON, R-E1)
    Column("public_payer", String(8)),  # 公費負担者番号 (KO): one 公費 with the insurance (2併)
    Column("public_recipient", String(7)),  # its 受給者番号
    # Read from a UKE file: where the care days come from (JD | details | month: R-R6), whether
    # it had an MF record (R-R7), and its records as read (written back after the review).
    Column("days_source", String(8), nullable=False, server_default="JD"),
    Column("has_mf", Boolean, nullable=False, server_default=true()),
    Column("records", Text),
    Column("kana_key", String(100)),  # fold_kana of the 不詳 kana name (R-R5)
    Column("address_key", String(200)),  # fold_address of the 不詳 address (R-R5)
    Column("checks", Text),  # findings of the 不詳 checklist (JSON, R-E1–E8)
    Column("status", String(10), nullable=False),  # built filed reclaimed; paid / returned: its review (claim_review part 0)
    Column("origin", String(8), nullable=False),  # visits | uke | reclaim | bench
    Column("reclaim_of", BigId, ForeignKey("claim.id"), unique=True),  # the returned claim this re-claims
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_claim_facility_month", "facility_code", "care_month"),
    Index("ix_claim_billing", "billing_month", "status"),
    Index("ix_claim_care_month", "care_month", "id"),  # the claims-based rate of a month and the summary's watermark (stats/, 0009, 0011)
    UniqueConstraint("facility_code", "billing_month", "payer", "receipt_no", name="uq_claim_receipt"),
)

review_run = Table(
    "review_run",
    metadata,
    # One batch of the 審査支払機関: a billing month's filed claims against the registry as known
    # on the review date.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("billing_month", Date, nullable=False),
    Column("review_date", Date, nullable=False),
    Column("payer", String(1)),  # null: both review bodies
    Column("claims", Integer, nullable=False),
    Column("milliseconds", Integer, nullable=False),
    Column("summary", Text, nullable=False),  # counts by outcome (JSON)
    Column("created_at", DateTime(timezone=True), nullable=False),
)

claim_review = Table(
    "claim_review",
    metadata,
    # The review's decision per claim (part 0) and, for a 分割, one row per resulting claim
    # (parts 1..n). A claim is reviewed once: its part 0 says whether it was paid or returned.
    # No foreign keys and few indexes: the review is the only writer and inserts a month at once.
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("claim_id", BigInteger, primary_key=True, autoincrement=False),
    Column("part", SmallInteger, primary_key=True, autoincrement=False),
    Column("outcome", String(10)),  # unchanged rerouted split returned
    Column("confirm_code", String(2)),  # SN 確認区分: 02 変更なし, 03 確認不能 (returned), 04 振替, 05 分割
    Column("rule", String(8)),  # R-R1 … R-R5
    Column("person_id", BigId),
    Column("billed_qualification_id", BigId),
    Column("qualification_id", BigId),  # the qualification the claim (part) is paid on
    # The numbers and days paid on: a re-routed claim's and each 分割 part's (unchanged: the claim's own).
    Column("insurer_number", String(8)),
    Column("symbol", String(20)),
    Column("number", String(20)),
    Column("branch", String(2)),
    Column("days_mask", Integer),
    Column("days", SmallInteger),
    Column("reason", String(300)),
    Index("ix_claim_review_claim", "claim_id"),
)

TABLES_IN_LOAD_ORDER = TABLES_IN_LOAD_ORDER + (claim, review_run, claim_review)

# ---------------------------------------------------------------- statistics (migration 0009, stats/)

simulation_month = Table(
    "simulation_month",
    metadata,
    # `onshi simulate`: one row per simulated month. status: visits (chunks being written) →
    # claims (every chunk written; claims being built, filed, reviewed) → done.
    Column("month", Date, primary_key=True),  # first day of the month
    Column("seed", Integer, nullable=False),
    Column("people_share", Float, nullable=False),
    Column("calibration", String(64), nullable=False),  # SHA-256 of the calibration table used
    Column("status", String(10), nullable=False),
    Column("chunks", Integer, nullable=False),  # person-id chunks of the month
    Column("summary", Text),  # counts and timings (JSON)
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

simulation_chunk = Table(
    "simulation_chunk",
    metadata,
    # A chunk of people whose month of visits is written: inserted in the same transaction as
    # its visits and verifications, so a resumed month skips it and never writes it twice.
    Column("month", Date, primary_key=True),
    Column("chunk", Integer, primary_key=True, autoincrement=False),
    Column("people", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("verifications", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
)

whatif_run = Table(
    "whatif_run",
    metadata,
    # `onshi whatif`: the recorded visits of some months decided again under the built-in policy
    # plus other policy files, and what changed (JSON report, shown on the what-if page).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("from_month", Date, nullable=False),
    Column("to_month", Date, nullable=False),
    Column("policy", Text, nullable=False),  # the files and withdrawn sources (JSON)
    Column("report", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

stats_summary = Table(
    "stats_summary",
    metadata,
    # A summarized month's counts behind R-S1 and R-S2 (stats/summary.py): one row per facility,
    # insurer ("" when the verification found no qualification) and age band, and the roll-ups
    # of each facility (insurer and age band "*") and of each insurer and age band (facility "*").
    # The rates of a summarized month are folded from these rows instead of scanning the month.
    Column("month", Date, primary_key=True),  # first day of the month
    Column("facility_code", String(10), primary_key=True),
    Column("insurer_number", String(8), primary_key=True),
    Column("age_band", String(8), primary_key=True),  # on the verification's day; R-S2: of the first use; claims: of the first care day
    Column("card_uses", Integer, nullable=False),  # R-S1 numerator: verifications by a マイナ保険証
    Column("verifications", Integer, nullable=False),  # R-S1 denominator: verifications that answered
    Column("claim_users", Integer, nullable=False),  # R-S2 numerator: persons whose first マイナ保険証 use at a facility with claims is here
    Column("outpatient_users", Integer, nullable=False),  # the same at a facility with outpatient claims (外来のみ)
    Column("claims", Integer, nullable=False),  # R-S2 denominator: claims (re-claims excluded)
    Column("outpatient_claims", Integer, nullable=False),  # 外来のみ (seed 001)
    Index("ix_stats_summary_insurer", "insurer_number", "month"),  # an insurer's key
)

stats_summary_month = Table(
    "stats_summary_month",
    metadata,
    # A summarized month and what it was summarized from: the highest verification id of the
    # month (verifications are append-only) and the month's claims (count and highest id). The
    # rates use the summary while these still hold, the month's rows otherwise.
    Column("month", Date, primary_key=True),
    Column("verification_max_id", BigId, nullable=False),
    Column("verifications", BigId, nullable=False),
    Column("claim_max_id", BigId, nullable=False),
    Column("claims", BigId, nullable=False),
    Column("rows", BigId, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("summarized_at", DateTime(timezone=True), nullable=False),
)

TABLES_IN_LOAD_ORDER = TABLES_IN_LOAD_ORDER + (simulation_month, simulation_chunk, whatif_run, stats_summary, stats_summary_month)
