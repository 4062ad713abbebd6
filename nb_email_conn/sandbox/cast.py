"""The demo mailbox's cast and stories: who writes to Dana, about what (data only)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

DEMO_USER = "demo@sandbox.local"
DEMO_NAME = "Dana Demo"
DOMAIN = "acme-analytics.example"


@dataclass(frozen=True)
class Person:
    name: str
    addr: str

    @property
    def address(self) -> Address:
        user, _, domain = self.addr.partition("@")
        return Address(self.name, user, domain)


ME = Person(DEMO_NAME, DEMO_USER)
COLLEAGUES = (
    Person("Jörg Müller", f"joerg.mueller@{DOMAIN}"),
    Person("Zoë Ålund", f"zoe.alund@{DOMAIN}"),
    Person("José Núñez", f"jose.nunez@{DOMAIN}"),
    Person("田中 花子", f"hanako.tanaka@{DOMAIN}"),
    Person("François Lefèvre", f"francois.lefevre@{DOMAIN}"),
    Person("Priya Raman", f"priya.raman@{DOMAIN}"),
    Person("Sam O'Connor", f"sam.oconnor@{DOMAIN}"),
    Person("Søren Kierkegaard-Hansen", f"soren.kh@{DOMAIN}"),
)
CUSTOMERS = (
    Person("Maria Rossi", "maria.rossi@globex.example"),
    Person("Kenji Watanabe", "k.watanabe@initech.example"),
    Person("Ana Souza", "ana.souza@umbrella-retail.example"),
)

# (subject, opening message, replies) for the discussion threads.
THREADS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Q3 churn analysis",
        "Hi all,\n\nthe churn numbers for Q3 are in the shared notebook. Churn rose from 2.1% to 2.6%,"
        " mostly in the SMB tier. Can we go through it on Thursday?\n",
        (
            "Thanks! Is the SMB jump driven by the price change in July?",
            "Partly. About a third of it is accounts that never activated the dashboard.",
            "Let's add an activation cohort chart before Thursday.",
        ),
    ),
    (
        "Dashboard for the board meeting",
        "Hello,\n\nthe board wants ARR, net revenue retention and pipeline on one page. Draft is attached"
        " in the wiki. Feedback by Friday please.\n",
        ("Looks good. NRR should show the trailing twelve months.", "Updated, see the wiki."),
    ),
    (
        "Offsite in Lisbon — agenda",
        "Team,\n\nproposed agenda for the offsite: day 1 strategy, day 2 hack day, day 3 walking tour.\n",
        ("Can we move the hack day to day 1? People are freshest then.", "Fine by me.", "Agreed, updated."),
    ),
    (
        "Pipeline failure on Friday night",
        "The nightly ETL failed at 02:14 UTC: the orders table had a schema change upstream.\n",
        ("I pinned the schema and re-ran it. Data is complete as of 06:30.", "Thanks, adding a contract test."),
    ),
    (
        "Réunion avec le client à Paris",
        "Bonjour,\n\nla réunion avec Globex est confirmée pour mardi à 14 h. Je prépare la démo.\n",
        ("Parfait, je m'occupe des chiffres de rétention.",),
    ),
    (
        "東京オフィスの件",
        "お疲れさまです。\n\n来月の東京オフィス訪問の日程について相談させてください。\n",
        ("承知しました。第2週はいかがでしょうか。", "第2週で調整します。"),
    ),
    (
        "Größenordnung der Datenmigration",
        "Hallo zusammen,\n\nwir migrieren 4,2 TB aus dem alten Warehouse. Schätzung: zwei Wochenenden.\n",
        ("Können wir das inkrementell machen?", "Ja, tabellenweise, ab Samstag."),
    ),
    (
        "Hiring: senior data engineer",
        "We have three candidates for the final round. Interview slots are in the calendar.\n",
        ("I can take the system design interview.", "Great, I'll send the invites."),
    ),
    (
        "Customer escalation: Globex latency",
        "Globex reports dashboards taking 20+ seconds to load since Monday.\n",
        (
            "The query cache was disabled by the last deploy. Re-enabled now.",
            "Confirmed fixed on their side. Thanks for the quick turnaround.",
        ),
    ),
    (
        "Presupuesto 2025 — revisión",
        "Hola,\n\nadjunto la primera versión del presupuesto. El gasto en nube sube un 12 %.\n",
        ("¿Podemos negociar compromiso de uso con el proveedor?", "Lo miro esta semana."),
    ),
    (
        "Sprint 42 planning",
        "Candidates for sprint 42: churn model v2, SSO for the portal, notebook export.\n",
        ("SSO is blocking two deals, please prioritise it.", "OK, SSO first."),
    ),
    (
        "Jupyter kernel keeps dying on the big notebook",
        "The forecast notebook runs out of memory when loading the full event table.\n",
        ("Try reading it in chunks or use the parquet extract.", "Parquet did it, 3 GB instead of 28."),
    ),
)

NEWSLETTERS = (
    ("Data Weekly", "newsletter@dataweekly.example", "alternative"),
    ("PyData Digest", "digest@pydata-digest.example", "html"),
    ("Cloud Status", "status@nimbus-cloud.example", "text"),
)
NEWS_TOPICS = (
    "Columnar formats explained",
    "Ten pandas tricks for faster groupbys",
    "Why your dashboards are slow",
    "Feature stores in practice",
    "Testing data pipelines",
    "A gentle guide to causal inference",
    "Polars vs pandas: a fair benchmark",
    "Observability for ML models",
    "Notebook hygiene for teams",
    "Vector databases: hype and reality",
)

VENDORS = (
    ("Nimbus Cloud", "billing@nimbus-cloud.example", ("Compute", "Storage", "Egress")),
    ("Papier & Co. GmbH", "rechnung@papier-co.example", ("Druckerpapier", "Toner", "Versand")),
    ("DataViz SaaS", "invoices@dataviz.example", ("Seats", "Premium connectors")),
)

NOTIFICATIONS = (
    "[acme/pipeline] Build failed on main",
    "[acme/pipeline] Build fixed on main",
    "[acme/portal] New comment on pull request #{n}",
    "Your export is ready",
    "Weekly KPI export",
    "Reminder: timesheets due Friday",
)

SPAM = (
    ("Congratulations!!! You have WON", "winner@prize-claims.example"),
    ("Cheap licences, 90% off", "sales@cheap-licences.example"),
    ("Urgent: verify your account", "security@not-a-bank.example"),
    ("Re: your invoice (open attachment)", "billing@phish.example"),
    ("Grow your followers fast", "promo@followers.example"),
)
