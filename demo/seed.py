"""Deterministic, realistic demo data, loaded set-based so that a million customers take minutes.

Small reference tables (teams, users, products, campaigns) are written with the ORM;
every large table is one ``INSERT … SELECT FROM generate_series`` whose values come from
a seeded hash of the row number (``pg_temp.r``), so the same ``--seed`` and size always
give the same names, amounts and statuses.  Dates are relative to the day of loading, so
the demo always has orders due this week and follow-ups due today.

The whole load is one transaction: it either lands completely or not at all.  It is
audited as one event per table (what was loaded, how many rows), not row by row.

A large load into a table that holds fewer rows than the book has customers (a new
book) builds that table's indexes once its rows are in, as PostgreSQL's guide to
populating a database advises (:func:`indexes_built_after`): kept up row by row, the
ten million orders of a million customers cost their load more than twice the bare
insert.  The table is then the load's alone until it commits.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Index, Model, UniqueConstraint
from django.utils import timezone

from campaigns.models import Campaign
from crm.access.changes import change_propose
from crm.accounts.choices import Role
from crm.accounts.models import Team, User
from crm.audit.services import audit_bulk
from crm.core.jobs import local_settings
from customers.models import Customer
from duplicates.finder import find_duplicates
from duplicates.tasks import find_duplicates_task
from transactions.models import Product

DEMO_PASSWORD = "demo12345"  # noqa: S105 - printed to the person starting the demo, by design

# ----------------------------------------------------------------------- vocab
CITIES = [  # region, province, city, postal code prefix, phone area code
    ("east", "上海市", "上海", "200", "021"),
    ("east", "浙江省", "杭州", "310", "0571"),
    ("east", "浙江省", "宁波", "315", "0574"),
    ("east", "浙江省", "温州", "325", "0577"),
    ("east", "江苏省", "南京", "210", "025"),
    ("east", "江苏省", "苏州", "215", "0512"),
    ("east", "江苏省", "无锡", "214", "0510"),
    ("east", "山东省", "济南", "250", "0531"),
    ("east", "山东省", "青岛", "266", "0532"),
    ("east", "福建省", "厦门", "361", "0592"),
    ("east", "福建省", "福州", "350", "0591"),
    ("east", "安徽省", "合肥", "230", "0551"),
    ("south", "广东省", "广州", "510", "020"),
    ("south", "广东省", "深圳", "518", "0755"),
    ("south", "广东省", "东莞", "523", "0769"),
    ("south", "广东省", "佛山", "528", "0757"),
    ("south", "广西壮族自治区", "南宁", "530", "0771"),
    ("south", "海南省", "海口", "570", "0898"),
    ("north", "北京市", "北京", "100", "010"),
    ("north", "天津市", "天津", "300", "022"),
    ("north", "河北省", "石家庄", "050", "0311"),
    ("north", "山西省", "太原", "030", "0351"),
    ("central", "湖北省", "武汉", "430", "027"),
    ("central", "湖南省", "长沙", "410", "0731"),
    ("central", "河南省", "郑州", "450", "0371"),
    ("central", "江西省", "南昌", "330", "0791"),
    ("southwest", "四川省", "成都", "610", "028"),
    ("southwest", "重庆市", "重庆", "400", "023"),
    ("southwest", "云南省", "昆明", "650", "0871"),
    ("southwest", "贵州省", "贵阳", "550", "0851"),
    ("northwest", "陕西省", "西安", "710", "029"),
    ("northwest", "甘肃省", "兰州", "730", "0931"),
    ("northwest", "新疆维吾尔自治区", "乌鲁木齐", "830", "0991"),
    ("northeast", "辽宁省", "沈阳", "110", "024"),
    ("northeast", "辽宁省", "大连", "116", "0411"),
    ("northeast", "吉林省", "长春", "130", "0431"),
    ("northeast", "黑龙江省", "哈尔滨", "150", "0451"),
    ("hk_mo_tw", "香港特别行政区", "香港", "999077", "852"),
]
STREETS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "科技园路",
    "创业大道",
    "长江路",
    "滨江大道",
    "工业园区东路",
    "高新大道",
    "金融街",
    "世纪大道",
    "南京路",
    "延安路",
    "环城北路",
    "开发区纬二路",
]
BRAND_CHARS = list("恒信华泰鑫达瑞丰盛宏天润安博创智远航嘉德通源中联海新明科锦荣")
INDUSTRIES = [  # industry code, word in the company name
    ("manufacturing", "精密机械"),
    ("manufacturing", "机电设备"),
    ("manufacturing", "新材料"),
    ("manufacturing", "电子科技"),
    ("automotive", "汽车零部件"),
    ("automotive", "汽车销售服务"),
    ("retail", "商贸"),
    ("retail", "百货"),
    ("retail", "电子商务"),
    ("it", "软件"),
    ("it", "信息技术"),
    ("it", "网络科技"),
    ("finance", "融资租赁"),
    ("finance", "投资管理"),
    ("healthcare", "医药"),
    ("healthcare", "医疗器械"),
    ("education", "教育科技"),
    ("logistics", "物流"),
    ("logistics", "供应链管理"),
    ("energy", "新能源"),
    ("energy", "电力工程"),
    ("construction", "建设工程"),
    ("construction", "置业"),
    ("food", "食品"),
    ("food", "餐饮管理"),
    ("hospitality", "酒店管理"),
    ("hospitality", "国际旅行社"),
    ("telecom", "通信技术"),
]
SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"]
FOREIGN = [
    "Siemens Technik",
    "Müller Precision",
    "Nordic Logistics",
    "Pacific Foods",
    "Atlas Medical",
    "Orion Software",
    "Sakura Electronics",
    "Maple Energy",
    "Alpine Instruments",
    "Harbor Retail",
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程")
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "慧",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "婷",
    "雪",
    "鹏",
    "俊",
    "欣怡",
    "子轩",
    "思远",
]
TITLES = [
    "采购经理",
    "采购总监",
    "财务经理",
    "财务总监",
    "总经理",
    "副总经理",
    "技术总监",
    "运营经理",
    "行政主管",
    "项目经理",
    "董事长",
    "IT经理",
]
DEPARTMENTS = ["采购部", "财务部", "总经办", "技术部", "运营部", "行政部", "信息部", "生产部"]
TAGS = ["重点客户", "长期合作", "价格敏感", "决策周期长", "国企", "外资", "上市公司", "渠道商", "新签约", "需重点维护"]
SPECIAL = [
    "需开具增值税专用发票",
    "每周五前送货，避开月底盘点",
    "包装需贴客户自有条码",
    "付款需走OA审批，周期较长",
    "要求驻场技术支持",
    "年度框架协议，按季度下单",
    "所有合同需法务审核",
    "",
]
PROSPECTS = [
    "明年计划扩建二期工厂，有增购意向",
    "正在评估替换竞品，可重点跟进",
    "预算收紧，维持现有规模",
    "有意签订三年战略合作协议",
    "集团其他子公司有类似需求",
    "",
]
SUBJECTS = {
    "call": ["电话回访使用情况", "确认下季度采购计划", "催收逾期款项"],
    "visit": ["上门拜访总经理", "季度业务回顾", "现场技术交流"],
    "email": ["发送新品资料", "发送报价单", "发送对账单"],
    "meeting": ["年度合作洽谈", "项目启动会", "售后问题协调会"],
    "wechat": ["微信跟进样品反馈", "微信发送活动邀请"],
    "note": ["客户组织架构调整", "竞争对手报价信息"],
}
PRODUCTS = [  # sku, name, category, unit, price, is service
    ("ZN-S100", "智能传感器 S100", "传感器", "件", "380.00", False),
    ("ZN-S200", "智能传感器 S200 Pro", "传感器", "件", "690.00", False),
    ("GK-PLC-10", "工控 PLC 模块", "工业控制", "台", "4200.00", False),
    ("GK-HMI-7", "7 英寸触摸屏 HMI", "工业控制", "台", "2600.00", False),
    ("DJ-SV-1K", "伺服电机 1kW", "电机驱动", "台", "3800.00", False),
    ("DJ-VFD-5", "变频器 5.5kW", "电机驱动", "台", "2950.00", False),
    ("RJ-ERP-Y", "ERP 软件年度订阅", "软件", "年", "36000.00", True),
    ("RJ-MES-Y", "MES 制造执行系统订阅", "软件", "年", "58000.00", True),
    ("FW-WB-Y", "年度维保服务", "服务", "年", "8800.00", True),
    ("FW-PX-D", "现场培训服务", "服务", "天", "3000.00", True),
    ("HC-LB-01", "工业润滑油 20L", "耗材", "桶", "560.00", False),
    ("HC-LX-02", "精密滤芯", "耗材", "件", "120.00", False),
    ("SB-JX-30", "机械臂 30kg", "设备", "台", "128000.00", False),
    ("SB-AGV-1", "AGV 搬运机器人", "设备", "台", "96000.00", False),
    ("BJ-ZC-60", "精密轴承 6205", "备件", "套", "45.00", False),
    ("BJ-CL-11", "齿轮组件", "备件", "套", "860.00", False),
]
CAMPAIGNS = [  # name, channel, status, days from today (start), days long, budget, content
    ("2024 中国国际工业博览会", "exhibition", "finished", -700, 5, "300000", "展位 A3-112，新品首发与现场签约优惠"),
    ("智能制造线上研讨会（第一期）", "online", "finished", -600, 1, "20000", "专家直播：工厂数字化改造路径"),
    ("华东区重点客户答谢会", "offline", "finished", -500, 1, "150000", "年度答谢晚宴与合作伙伴颁奖"),
    ("新品 S200 Pro 邮件推广", "email", "finished", -420, 30, "5000", "面向老客户的升级换购 8 折优惠"),
    ("2025 春季技术研讨会", "seminar", "finished", -300, 2, "60000", "伺服与变频应用案例分享"),
    ("双十一工业品采购节", "online", "finished", -380, 11, "80000", "满 10 万减 5000，限时包邮"),
    ("2025 中国国际工业博览会", "exhibition", "finished", -340, 5, "320000", "展位 B1-205，机械臂现场演示"),
    ("华南区渠道商大会", "offline", "finished", -200, 2, "120000", "渠道政策发布与年度返利说明"),
    ("MES 上云专题研讨会", "seminar", "finished", -120, 1, "40000", "MES 订阅版发布，首年 9 折"),
    ("年度维保续约邮件提醒", "email", "running", -30, 60, "3000", "续约送两天现场培训"),
    ("2026 秋季新品发布会", "offline", "running", -5, 10, "200000", "AGV 与机械臂联合方案发布"),
    ("2027 中国国际工业博览会", "exhibition", "planned", 60, 5, "350000", "展位规划中，重点客户 VIP 邀请"),
]


#: The risk the demo carries: a few percent of customers with an open alert after the
#: first scan, every kind of rule among them, so that a rep's first day shows a workable
#: inbox.  Each is the share of customers who ...
RISK_SHARES = {
    "late_payer": 0.03,  # pay their last months' orders late (overdue payment)
    "drifting": 0.012,  # stopped ordering most of a year ago (buying rhythm broken)
    "souring": 0.008,  # answered the last survey clearly worse than before (satisfaction drop)
    "complaining": 0.005,  # complained three or four times in the last weeks (complaint spike)
}
#: Every other customer pays an order once it is due and has ordered within this many days.
RECENT_ORDER_DAYS = 45
#: Orders of the last 90 days cancelled (4% of older ones): a customer's recent orders are
#: what the cancellations rule weighs, and few customers call off several at once.
RECENT_CANCELLED = 0.015
#: How far back a late payer's unpaid orders go.
LATE_DAYS = 240


#: Changes reps proposed and their managers have not decided yet: (rep, field).
PROPOSALS = (
    ("rep1", "credit_limit"),
    ("rep1", "tax_id"),
    ("rep2", "credit_limit"),
    ("rep2", "payment_terms_days"),
    ("rep3", "credit_limit"),
    ("rep4", "tax_id"),
)
#: The archive's own mess, what the archive tools are for.  The share of customers who
#: are an earlier customer entered a second time (a twin), ...
TWIN_SHARE = 0.01
#: ... each written one of these ways, in turn by draw (what the duplicate finder meets):
TWIN_VARIANTS = {
    1: "another legal form: 有限公司 → 股份有限公司, Co., Ltd. → Company Limited",
    2: "the province in brackets, or a foreign name in full-width letters",
    3: "a typo in the name, the same switchboard written with +86",
    4: "the same name with the old 15-character tax id inside the source's 18-character one",
}
#: Customers never confirmed since they were entered, and confirmed longer ago than the
#: verification period (``CRM_VERIFY_DAYS``); the others within it.
VERIFY_SHARES = {"never": 0.08, "overdue": 0.15}
#: Customers entered in a hurry: no address, size, employees, revenue or website, half of
#: them no short name.  Of the others some lack a website or revenue figure.
SPARSE_SHARE = 0.18
#: Up to this many customers in all the duplicate finder runs in the load itself (a
#: second at 2,000 customers, minutes at 100,000: its trigram join within a city grows
#: with the square of the city's customers); a larger book waits for a worker.
FINDER_IN_LOAD_MAX = 100_000
HALF_WIDTH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()"
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in HALF_WIDTH)


def _teammates(teams: list[int | None]) -> list[int]:
    """For each rep (by 1-based place in ``teams``), the place of the next rep of the
    same team, or the rep's own when they are the only one: whom a twin goes to when
    a colleague entered the company again."""
    members: dict[int | None, list[int]] = {}
    for place, team in enumerate(teams, start=1):
        members.setdefault(team, []).append(place)
    mates = [0] * len(teams)
    for same in members.values():
        for i, place in enumerate(same):
            mates[place - 1] = same[(i + 1) % len(same)]
    return mates


#: A load of at least this many customers builds the indexes of a table it fills anew
#: after its rows are in (:func:`indexes_built_after`); a smaller one keeps them up as it
#: goes, and never takes a table from the users of a running application.
BULK_LOAD_FROM = 10_000

#: The memory each index build may sort in (PostgreSQL's default is 64 MB, which sorts
#: ten million orders' keys on disk).
BULK_INDEX_MEMORY = "512MB"


@contextmanager
def indexes_built_after(model: type[Model]) -> Iterator[None]:
    """``model``'s secondary indexes and references dropped for the block and made again
    after it, in the caller's transaction, as PostgreSQL's guide to populating a
    database advises: each index is then sorted once from the rows, instead of taking
    every row in turn, and each reference is checked by one join of the two tables,
    instead of a look-up and a lock of the other record for every row at the commit.

    The primary key and the unique constraints stay, so each row is still checked as it
    comes (a unique index on some rows only, such as an order's reference when it has
    one, checks them all as it is built).  So does every index that starts with a
    reference (an order's customer): the triggers that keep a customer's figures read
    the rows of each customer the load touched through it, and without it would read the
    whole table once per customer.  Each index comes back under its own name as its
    migration made it: the model's declared indexes and unique conditions from their
    declaration, the others (a column's own index) as PostgreSQL describes them, with
    the statistics target of any of their columns; each reference as PostgreSQL
    describes it.  If anything fails (a row naming no record, a
    reference given twice), the transaction takes the drops back with the rows."""
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                              WHERE f.conrelid = i.indrelid AND f.contype = 'f' AND i.indkey[0] = ANY(f.conkey))
            ORDER BY c.relname
            """,
            [table],
        )
        indexes = cursor.fetchall()
        # A column's own statistics target (``ALTER INDEX ... SET STATISTICS``), which no
        # index definition carries.
        cursor.execute(
            """
            SELECT c.relname, a.attnum, a.attstattarget
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relname = ANY(%s) AND COALESCE(a.attstattarget, -1) >= 0
            ORDER BY c.relname, a.attnum
            """,
            [[name for name, _definition in indexes]],
        )
        targets = cursor.fetchall()
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname
            """,
            [table],
        )
        references = cursor.fetchall()
        _checks_made_now(cursor)
        for name, _definition in references:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor, connection.schema_editor(atomic=False) as editor:
        _checks_made_now(cursor)
        with local_settings(cursor, maintenance_work_mem=BULK_INDEX_MEMORY):
            _made_again(cursor, editor, model, indexes, references)
        for name, column, target in targets:
            cursor.execute(f"ALTER INDEX {quote(name)} ALTER COLUMN {int(column)} SET STATISTICS {int(target)}")


def _made_again(
    cursor: Any, editor: Any, model: type[Model], indexes: list[tuple[str, str]], references: list[tuple[str, str]]
) -> None:
    """The dropped ``indexes`` and ``references`` of ``model`` made again (see
    :func:`indexes_built_after`)."""
    table = model._meta.db_table
    quote = connection.ops.quote_name
    declared: dict[str, Index] = {index.name: index for index in model._meta.indexes}
    # A unique condition that holds for some rows only is a unique index, not a constraint.
    unique = {c.name: c for c in model._meta.constraints if isinstance(c, UniqueConstraint)}
    for name, definition in indexes:
        if name in declared:
            editor.add_index(model, declared[name])
        elif name in unique:
            editor.add_constraint(model, unique[name])
        else:
            cursor.execute(definition)
    for name, definition in references:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def _checks_made_now(cursor: Any) -> None:
    """The checks this transaction left for its commit, made now: PostgreSQL changes
    no index or reference of a table with checks pending (Django defers the check of
    every reference, so the rows loaded before have theirs waiting).  It is the work the
    commit would have done; every check then waits for the commit again, as it was
    declared to."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("SELECT conname FROM pg_constraint WHERE condeferrable AND NOT condeferred")
    immediate = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
    if immediate:
        cursor.execute(f"SET CONSTRAINTS {immediate} IMMEDIATE")


@dataclass
class SeedReport:
    """What a load wrote, table by table, and how long each took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


# SQL helpers: a deterministic number in [0, 1) for (row, salt), and a pick from an array.
_HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.r(i bigint, salt integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(i, salt) & 9007199254740991)::double precision) / 9007199254740992.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.pick(arr text[], i bigint, salt integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT arr[1 + floor(pg_temp.r(i, salt) * array_length(arr, 1))::integer] $$;
CREATE OR REPLACE FUNCTION pg_temp.n(lo integer, hi integer, i bigint, salt integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT lo + floor(pg_temp.r(i, salt) * (hi - lo + 1))::integer $$;
"""


class DemoSeeder:
    """Loads ``customers`` customers (and everything around them) for random seed ``seed``."""

    def __init__(
        self,
        *,
        customers: int,
        seed: int = 1,
        transactions_per_customer: int = 10,
        log: Callable[[str], None] = print,
        bulk_from: int = BULK_LOAD_FROM,
    ) -> None:
        self.n = customers
        self.bulk_from = bulk_from
        self.seed = seed
        self.k = transactions_per_customer
        self.log = log
        self.report = SeedReport()
        self.users: dict[str, User] = {}

    # salt for the k-th random column, different for each seed
    def s(self, k: int) -> int:
        return self.seed * 1000 + k

    def _run(self, label: str, sql: str, params: dict[str, Any] | None = None, *, bulk: bool = True) -> int:
        """One table's load (``label``: its model), timed with the building of its
        indexes when the load builds them after the rows (``bulk`` and :meth:`_fills`)."""
        started = time.perf_counter()
        model = apps.get_model(label)
        after = indexes_built_after(model) if bulk and self._fills(model._meta.db_table) else nullcontext()
        with after, connection.cursor() as cursor:
            cursor.execute(sql, params or {})
            rows = cursor.rowcount
        elapsed = time.perf_counter() - started
        self.report.counts[label] = self.report.counts.get(label, 0) + rows
        self.report.seconds[label] = self.report.seconds.get(label, 0.0) + elapsed
        self.log(f"  {label:<30} {rows:>12,} rows  {elapsed:8.1f} s")
        return rows

    def _fills(self, table: str) -> bool:
        """Whether this load is large (``bulk_from`` customers or more) and ``table``
        holds fewer rows than the load has customers: a new book, whose indexes are
        cheaper built once than kept up row by row."""
        if self.n < self.bulk_from:
            return False
        with connection.cursor() as cursor:
            quoted = connection.ops.quote_name(table)  # a name from the model's meta
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT %s) held", [self.n])  # noqa: S608
            (held,) = cursor.fetchone()
        return bool(held < self.n)

    @transaction.atomic
    def run(self) -> SeedReport:
        with connection.cursor() as cursor:
            cursor.execute(_HELPERS)
        self._people()
        self._products()
        self._campaigns()
        first_id = self._customers()
        self._contacts(first_id)
        self._activities(first_id)
        self._service_needs(first_id)
        self._transactions(first_id)
        self._payments(first_id)
        self._service_records(first_id)
        self._feedback(first_id)
        self._complaint_spikes(first_id)
        self._satisfaction(first_id)
        self._participations(first_id)
        self._change_requests(first_id)
        self._duplicates()
        for label, count in self.report.counts.items():
            audit_bulk(
                resource=label,
                actor=None,
                summary={
                    "label": f"seed_demo: {count} {label}",
                    "rows": count,
                    "seed": self.seed,
                    "customers": self.n,
                },
            )
        return self.report

    # ------------------------------------------------------------------ people
    def _people(self) -> None:
        """Teams with managers; demo users admin, manager, rep1, rep2; more reps for large loads,
        so that no demo rep owns more than a few hundred customers."""
        started = time.perf_counter()
        password = make_password(DEMO_PASSWORD)
        team_names = [
            "华东大客户一组",
            "华东大客户二组",
            "华南大客户组",
            "华北大客户组",
            "华中大客户组",
            "西南大客户组",
        ]
        regions = ["east", "east", "south", "north", "central", "southwest"]
        teams = []
        for name, region in zip(team_names, regions, strict=True):
            team, _ = Team.objects.get_or_create(name=name, defaults={"region": region})
            teams.append(team)

        def user(username: str, role: str, team: Team | None, first: str, last: str, **extra: Any) -> User:
            obj, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "team": team,
                    "first_name": first,
                    "last_name": last,
                    "password": password,
                    "email": f"{username}@demo.example.com",
                    **extra,
                },
            )
            self.users[username] = obj
            return obj

        user("admin", Role.ADMIN, None, "管理员", "系统", is_staff=True, is_superuser=True, title="系统管理员")
        managers = [user("manager", Role.MANAGER, teams[0], "经理", "王", is_staff=True, title="华东大客户经理")]
        for i, team in enumerate(teams[1:], start=2):
            managers.append(user(f"manager{i}", Role.MANAGER, team, "经理", SURNAMES[i], title="大客户经理"))
        for team, manager in zip(teams, managers, strict=True):
            if team.manager_id != manager.pk:
                Team.objects.filter(pk=team.pk).update(manager=manager)
        user("rep1", Role.REP, teams[0], "一", "李", title="客户经理")
        user("rep2", Role.REP, teams[0], "二", "张", title="客户经理")
        wanted = min(max(4, -(-self.n // 250)), 5000)
        existing = set(User.objects.filter(username__startswith="rep").values_list("username", flat=True))
        new_reps = [
            User(
                username=f"rep{i}",
                role=Role.REP,
                team=teams[i % len(teams)],
                first_name=GIVEN[i % len(GIVEN)],
                last_name=SURNAMES[i % len(SURNAMES)],
                password=password,
                email=f"rep{i}@demo.example.com",
                title="客户经理",
            )
            for i in range(3, wanted + 1)
            if f"rep{i}" not in existing
        ]
        User.objects.bulk_create(new_reps, batch_size=1000)
        self.report.counts["accounts.user"] = len(new_reps) + len(self.users)
        self.report.seconds["accounts.user"] = time.perf_counter() - started
        self.log(f"  {'accounts.user':<30} {wanted + len(managers) + 1:>12,} users")

    # --------------------------------------------------------------- reference
    def _products(self) -> None:
        have = set(Product.objects.values_list("sku", flat=True))
        Product.objects.bulk_create(
            [
                Product(sku=sku, name=name, category=category, unit=unit, list_price=Decimal(price), is_service=service)
                for sku, name, category, unit, price, service in PRODUCTS
                if sku not in have
            ]
        )
        self.report.counts["transactions.product"] = len(PRODUCTS) - len(have & {p[0] for p in PRODUCTS})

    def _campaigns(self) -> None:

        today = timezone.localdate()
        have = set(Campaign.objects.values_list("name", flat=True))
        owner = self.users["manager"]
        Campaign.objects.bulk_create(
            [
                Campaign(
                    name=name,
                    channel=channel,
                    status=status,
                    start_date=today + dt.timedelta(days=start),
                    end_date=today + dt.timedelta(days=start + length),
                    budget=Decimal(budget),
                    content=content,
                    location="" if channel in ("online", "email") else "上海国家会展中心",
                    target_participants=200,
                    target_revenue=Decimal(budget) * 5,
                    owner=owner,
                    target_description="重点客户及其采购、技术决策人",
                )
                for name, channel, status, start, length, budget, content in CAMPAIGNS
                if name not in have
            ]
        )
        self.report.counts["campaigns.campaign"] = len(CAMPAIGNS) - len(have & {c[0] for c in CAMPAIGNS})

    # --------------------------------------------------------------- customers
    def _customers(self) -> int:
        """Customers get ids ``first_id …`` so that later tables can address them by number.

        Each is a company of its own (a chance namesake in the same city gets one more
        character to its name, a foreign group one subsidiary per city), but for the
        twins (``TWIN_SHARE``): the same company as an earlier customer, entered again
        the way teams do it (:data:`TWIN_VARIANTS`), half of them by another rep of the
        same team.  A twin never carries its source's tax id as it is: the old
        15-character number or none.  The archive is as current and as complete as a
        real one (``VERIFY_SHARES``, ``SPARSE_SHARE``)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM customers_customer")
            (first_id,) = cursor.fetchone()
        reps = list(User.objects.filter(role=Role.REP, is_active=True).order_by("id").values_list("id", "team_id"))
        # Demo reps first, so rep1 and rep2 own a realistic book whatever the size.
        reps.sort(key=lambda rt: (rt[0] not in (self.users["rep1"].pk, self.users["rep2"].pk), rt[0]))
        params = {
            "first": first_id,
            "n": self.n,
            "rep_ids": [r for r, _ in reps],
            "rep_teams": [t for _, t in reps],
            "rep_mates": _teammates([t for _, t in reps]),
            "regions": [c[0] for c in CITIES],
            "provinces": [c[1] for c in CITIES],
            "cities": [c[2] for c in CITIES],
            "postals": [c[3] for c in CITIES],
            "areas": [c[4] for c in CITIES],
            "streets": STREETS,
            "chars": BRAND_CHARS,
            "ind_codes": [i[0] for i in INDUSTRIES],
            "ind_words": [i[1] for i in INDUSTRIES],
            "suffixes": SUFFIXES,
            "foreign": FOREIGN,
            "tags": TAGS,
            "special": SPECIAL,
            "prospects": PROSPECTS,
            "twin_share": TWIN_SHARE,
            "never_verified": VERIFY_SHARES["never"],
            "overdue": VERIFY_SHARES["overdue"],
            "sparse": SPARSE_SHARE,
            "period": settings.CRM_VERIFY_DAYS,
            "half_width": HALF_WIDTH,
            "full_width": FULL_WIDTH,
            **{f"s{k}": self.s(k) for k in (*range(1, 30), *range(100, 120))},
        }
        self._run(
            "customers.customer",
            """
            WITH own AS (
                -- Every row's own draws; a twin's source is an earlier row (drawn here) ...
                SELECT g AS id,
                       pg_temp.r(g, %(s1)s) < 0.05 AS foreign_draw,
                       1 + floor(pg_temp.r(g, %(s2)s) * array_length(%(cities)s::text[], 1))::int AS ci,
                       1 + floor(pg_temp.r(g, %(s3)s) * array_length(%(ind_codes)s::text[], 1))::int AS ind,
                       1 + ((g - %(first)s) %% array_length(%(rep_ids)s::bigint[], 1))::int AS rep_ix,
                       pg_temp.pick(%(chars)s::text[], g, %(s24)s) || pg_temp.pick(%(chars)s::text[], g, %(s25)s)
                           AS brand,
                       pg_temp.pick(%(foreign)s::text[], g, %(s4)s) AS foreign_name,
                       pg_temp.pick(%(suffixes)s::text[], g, %(s5)s) AS suffix,
                       CASE WHEN g > %(first)s AND pg_temp.r(g, %(s100)s) < %(twin_share)s
                            THEN %(first)s + floor(pg_temp.r(g, %(s101)s) * (g - %(first)s))::bigint END AS src_draw
                FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(n)s - 1) AS g
            ), sourced AS (
                -- ... which is not a twin itself.
                SELECT own.*, CASE WHEN src_draw = %(first)s OR pg_temp.r(src_draw, %(s100)s) >= %(twin_share)s
                                   THEN src_draw END AS src
                FROM own
            ), firms AS (
                SELECT sourced.*, foreign_draw AND row_number() OVER (
                           PARTITION BY src IS NULL, foreign_draw, ci, foreign_name ORDER BY id) = 1 AS foreign_co
                FROM sourced
            ), named AS (
                SELECT f.*, CASE WHEN rn = 1 THEN brand
                                 ELSE brand || (%(chars)s::text[])[1 + (rn - 2) %% 30]
                                      || CASE WHEN rn > 31 THEN (%(chars)s::text[])[1 + ((rn - 2) / 30) %% 30]
                                              ELSE '' END END AS brand_u
                FROM (SELECT firms.*, row_number() OVER (
                                 PARTITION BY src IS NULL, foreign_co, ci, brand, ind ORDER BY id) AS rn
                      FROM firms) f
            )
            INSERT INTO customers_customer (
                id, created_at, updated_at, version, code, name, short_name, kind, industry, region, province,
                city, address, postal_code, phone, email, website, company_size, employee_count, annual_revenue,
                tax_id, credit_limit, payment_terms_days, lifecycle_stage, influence_score, source, tags,
                customer_since, special_requirements, cooperation_prospects, notes, consent_marketing,
                consent_data_processing, consent_updated_at, owner_id, team_id, last_verified_at,
                last_verified_by_id)
            SELECT id, created, now(), 1,
                'C' || lpad(nextval('customers_customer_code_seq')::text, 7, '0'),
                CASE WHEN variant = 1 AND foreign_co THEN fname || ' (China) Company Limited'
                     WHEN variant = 1 THEN city || brand || word
                                           || CASE WHEN suffix = '股份有限公司' THEN '有限公司' ELSE '股份有限公司' END
                     WHEN variant = 2 AND foreign_co THEN translate(fname || ' (China) Co., Ltd.', %(half_width)s,
                                                                    %(full_width)s)
                     WHEN variant = 2 THEN city || brand || word || '（' || province || '）' || suffix
                     WHEN variant = 3 AND foreign_co THEN regexp_replace(fname, '([a-z])([a-z])', '\\2\\1')
                                                          || ' (China) Co., Ltd.'
                     WHEN variant = 3 THEN city || left(brand, 1)
                         || (%(chars)s::text[])[1 + (array_position(%(chars)s::text[], substr(brand, 2, 1)) - 1
                                                     + pg_temp.n(1, 29, id, %(s103)s)) %% 30]
                         || substr(brand, 3) || word || suffix
                     WHEN foreign_co THEN fname || ' (China) Co., Ltd.'
                     ELSE city || brand || word || suffix END,
                CASE WHEN foreign_co OR (sparse AND pg_temp.r(id, %(s111)s) < 0.5) THEN '' ELSE brand || word END,
                CASE WHEN r_kind < 0.04 THEN 'government' WHEN r_kind < 0.10 THEN 'partner' ELSE 'enterprise' END,
                (%(ind_codes)s::text[])[ind], region, province, city,
                CASE WHEN sparse THEN ''
                     ELSE city || '市' || pg_temp.pick(%(streets)s::text[], id, %(s6)s) || pg_temp.n(1, 999, id, %(s7)s)
                          || '号' END,
                postal || lpad(pg_temp.n(0, 999, id, %(s8)s)::text, 3, '0'),
                -- The typo's twin has its source's switchboard, written the other way; the old tax id's too.
                CASE WHEN variant = 3 AND left(area, 1) = '0'
                     THEN '+86 ' || substr(area, 2) || ' ' || pg_temp.n(5000000, 8999999, src, %(s9)s)
                     WHEN variant IN (3, 4) THEN area || '-' || pg_temp.n(5000000, 8999999, src, %(s9)s)
                     ELSE area || '-' || pg_temp.n(5000000, 8999999, id, %(s9)s) END,
                'sales@c' || id || '.example.com',
                CASE WHEN sparse OR pg_temp.r(id, %(s112)s) < 0.2 THEN ''
                     ELSE 'https://www.c' || id || '.example.com' END,
                CASE WHEN sparse THEN '' ELSE (ARRAY['micro','small','medium','large','enterprise'])[size_ix] END,
                CASE WHEN sparse THEN NULL ELSE employees END,
                CASE WHEN sparse OR pg_temp.r(id, %(s113)s) < 0.15 THEN NULL
                     ELSE round((employees * (80000 + pg_temp.r(id, %(s10)s) * 900000))::numeric, -4) END,
                -- One source's second twin of the same variant gets none: tax ids are unique.
                CASE WHEN variant = 4 AND variant_rn = 1 AND pg_temp.r(src, %(s11)s) >= 0.08
                     THEN lpad(postal, 6, '0') || lpad(upper(to_hex(src)), 9, '0')
                     WHEN variant IS NOT NULL OR pg_temp.r(id, %(s11)s) < 0.08 THEN ''
                     ELSE '91' || lpad(postal, 6, '0') || lpad(upper(to_hex(id)), 9, '0') || chr(65 + (id %% 26)::int)
                END,
                CASE WHEN r_stage < 0.20 AND pg_temp.r(id, %(s114)s) < 0.5 THEN NULL
                     ELSE round((employees * 2000)::numeric, -3) END,
                (ARRAY[30, 30, 45, 60, 90])[pg_temp.n(1, 5, id, %(s12)s)],
                CASE WHEN r_stage < 0.20 THEN 'prospect' WHEN r_stage < 0.65 THEN 'active'
                     WHEN r_stage < 0.77 THEN 'key' WHEN r_stage < 0.85 THEN 'at_risk'
                     WHEN r_stage < 0.95 THEN 'churned' ELSE 'won_back' END,
                pg_temp.n(0, 10, id, %(s13)s),
                (ARRAY['referral','exhibition','website','cold_call','campaign','partner','business_card','social'])
                    [pg_temp.n(1, 8, id, %(s14)s)],
                CASE WHEN pg_temp.r(id, %(s15)s) < 0.5 THEN ARRAY[]::varchar[]
                     ELSE ARRAY[pg_temp.pick(%(tags)s::text[], id, %(s16)s)]::varchar[] END,
                since, pg_temp.pick(%(special)s::text[], id, %(s18)s), pg_temp.pick(%(prospects)s::text[], id, %(s19)s),
                '', pg_temp.r(id, %(s20)s) < 0.6, true, now(),
                (%(rep_ids)s::bigint[])[owner_ix], (%(rep_teams)s::bigint[])[owner_ix],
                verified, CASE WHEN verified IS NOT NULL THEN (%(rep_ids)s::bigint[])[owner_ix] END
            FROM (
                SELECT n.id, n.src,
                       CASE WHEN n.src IS NOT NULL THEN pg_temp.n(1, 4, n.id, %(s102)s) END AS variant,
                       row_number() OVER (PARTITION BY n.src, CASE WHEN n.src IS NOT NULL
                                          THEN pg_temp.n(1, 4, n.id, %(s102)s) END ORDER BY n.id) AS variant_rn,
                       coalesce(s.ci, n.ci) AS ci, coalesce(s.ind, n.ind) AS ind,
                       coalesce(s.foreign_co, n.foreign_co) AS foreign_co, coalesce(s.brand_u, n.brand_u) AS brand,
                       coalesce(s.foreign_name, n.foreign_name) AS fname, coalesce(s.suffix, n.suffix) AS suffix,
                       CASE WHEN s.id IS NULL THEN n.rep_ix
                            WHEN pg_temp.r(n.id, %(s104)s) < 0.5 THEN s.rep_ix
                            ELSE (%(rep_mates)s::int[])[s.rep_ix] END AS owner_ix,
                       pg_temp.r(n.id, %(s21)s) AS r_kind, pg_temp.r(n.id, %(s22)s) AS r_stage,
                       pg_temp.n(1, 5, n.id, %(s23)s) AS size_ix,
                       pg_temp.r(n.id, %(s110)s) < %(sparse)s AS sparse
                FROM named n LEFT JOIN named s ON s.id = n.src
                ORDER BY n.id  -- so the codes follow the ids
            ) base
            CROSS JOIN LATERAL (SELECT
                (%(regions)s::text[])[ci] AS region, (%(provinces)s::text[])[ci] AS province,
                (%(cities)s::text[])[ci] AS city, (%(postals)s::text[])[ci] AS postal,
                (%(areas)s::text[])[ci] AS area, (%(ind_words)s::text[])[ind] AS word,
                (ARRAY[8, 40, 200, 900, 5000])[size_ix]
                    + pg_temp.n(0, 9, id, %(s26)s) * (ARRAY[1, 6, 30, 110, 900])[size_ix] AS employees,
                CASE WHEN r_stage < 0.20 THEN NULL ELSE current_date - pg_temp.n(30, 3650, id, %(s17)s) END AS since
            ) derived
            -- Entered when it became a customer (a prospect within the last year); confirmed
            -- by its owner within the period, long ago or never (counting from its entry).
            CROSS JOIN LATERAL (SELECT coalesce(since + time '09:00' + make_interval(mins => minutes),
                                                now() - make_interval(days => pg_temp.n(0, 365, id, %(s115)s),
                                                                      mins => minutes)) AS created
                                FROM (SELECT pg_temp.n(0, 480, id, %(s116)s) AS minutes) m) c
            CROSS JOIN LATERAL (SELECT CASE
                WHEN pg_temp.r(id, %(s117)s) < %(never_verified)s THEN NULL
                WHEN pg_temp.r(id, %(s117)s) < %(never_verified)s + %(overdue)s
                THEN greatest(created, now() - make_interval(days => %(period)s + pg_temp.n(1, 400, id, %(s118)s)))
                ELSE greatest(created, now() - make_interval(days => pg_temp.n(0, %(period)s - 15, id, %(s118)s),
                                                              hours => pg_temp.n(0, 9, id, %(s119)s)))
                END AS verified) v
        """,
            params,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
                "(SELECT max(id) FROM customers_customer))"
            )
        return int(first_id)

    def _span(self, first_id: int) -> dict[str, Any]:
        return {"first": first_id, "last": first_id + self.n - 1, **{f"s{k}": self.s(k) for k in range(30, 99)}}

    def _contacts(self, first_id: int) -> None:
        """One to four contacts per customer; the first is the primary one."""
        self._run(
            "customers.contact",
            """
            INSERT INTO customers_contact (created_at, updated_at, version, customer_id, name, title, department,
                email, phone, mobile, wechat, social_accounts, birthday, is_primary, is_decision_maker,
                marketing_consent, notes)
            SELECT now(), now(), 1, c, name, pg_temp.pick(%(titles)s::text[], key, %(s31)s),
                pg_temp.pick(%(departments)s::text[], key, %(s32)s),
                'contact' || j || '@c' || c || '.example.com', '',
                '1' || (ARRAY['38','39','35','36','37','58','59','86','88','89'])[pg_temp.n(1, 10, key, %(s33)s)]
                    || lpad(pg_temp.n(0, 99999999, key, %(s34)s)::text, 8, '0'),
                'wx_' || to_hex(key * 7919 + %(s35)s), '{}'::jsonb,
                DATE '1965-01-01' + pg_temp.n(0, 12000, key, %(s36)s),
                j = 1, j = 1 OR pg_temp.r(key, %(s37)s) < 0.2, pg_temp.r(key, %(s38)s) < 0.5, ''
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS c,
                 generate_series(1, 4) AS j,
                 LATERAL (SELECT c * 4 + j AS key) k,
                 LATERAL (SELECT pg_temp.pick(%(surnames)s::text[], c * 4 + j, %(s39)s)
                                 || pg_temp.pick(%(given)s::text[], c * 4 + j, %(s40)s) AS name) nm
            WHERE j <= pg_temp.n(1, 4, c, %(s30)s)
        """,
            {
                **self._span(first_id),
                "titles": TITLES,
                "departments": DEPARTMENTS,
                "surnames": SURNAMES,
                "given": GIVEN,
            },
        )

    def _activities(self, first_id: int) -> None:
        """Logged follow-ups over the last half year, and open ones due around today for some customers."""
        kinds = list(SUBJECTS)
        self._run(
            "customers.activity",
            """
            INSERT INTO customers_activity (created_at, updated_at, version, customer_id, kind, subject, notes,
                assignee_id, occurred_at, due_at, done, done_at, outcome)
            SELECT now(), now(), 1, cu.id, akind,
                (%(subjects)s::text[])[
                    (array_position(%(kinds)s::text[], akind) - 1) * 3 + pg_temp.n(1, 2, key, %(s51)s)],
                '', cu.owner_id,
                CASE WHEN planned THEN NULL ELSE at END, CASE WHEN planned THEN at ELSE NULL END,
                NOT planned, CASE WHEN planned THEN NULL ELSE at END,
                CASE WHEN planned THEN '' ELSE '已沟通，客户反馈良好' END
            FROM customers_customer cu,
                 generate_series(1, 4) AS j,
                 LATERAL (SELECT cu.id * 4 + j AS key) k,
                 LATERAL (SELECT j = 4 AS planned,
                                 pg_temp.pick(%(kinds)s::text[], cu.id * 4 + j, %(s52)s) AS akind) p,
                 LATERAL (SELECT CASE WHEN j = 4
                                      THEN date_trunc('day', now())
                                           + make_interval(days => pg_temp.n(-2, 5, key, %(s53)s),
                                                           hours => pg_temp.n(9, 17, key, %(s54)s))
                                      ELSE now() - make_interval(days => pg_temp.n(1, 180, key, %(s55)s),
                                                                 hours => pg_temp.n(0, 9, key, %(s56)s)) END AS at) t
            WHERE cu.id BETWEEN %(first)s AND %(last)s
              AND (j < 4 OR pg_temp.r(cu.id, %(s57)s) < 0.25)
              AND j <= 1 + pg_temp.n(1, 3, cu.id, %(s58)s)
        """,
            {
                **self._span(first_id),
                "kinds": kinds,
                "subjects": [s for kind in kinds for s in (SUBJECTS[kind] + SUBJECTS[kind])[:3]],
            },
        )

    def _service_needs(self, first_id: int) -> None:
        self._run(
            "customers.serviceneed",
            """
            INSERT INTO customers_serviceneed (created_at, updated_at, version, customer_id, kind, title,
                description, priority, status, due_date, resolution)
            SELECT now(), now(), 1, c, kind,
                CASE kind WHEN 'customization' THEN '定制包装与标签' WHEN 'special_request' THEN '专用发票与对账格式'
                          WHEN 'delivery' THEN '指定时间窗口送货' WHEN 'training' THEN '新员工操作培训'
                          WHEN 'support' THEN '驻场技术支持' WHEN 'pricing' THEN '阶梯价格与年度返利'
                          WHEN 'care' THEN '节日与生日关怀' ELSE '其他个性化需求' END,
                '', (ARRAY['low','normal','normal','high','urgent'])[pg_temp.n(1, 5, c, %(s61)s)],
                (ARRAY['open','planned','in_progress','fulfilled','fulfilled'])[pg_temp.n(1, 5, c, %(s62)s)],
                current_date + pg_temp.n(-30, 90, c, %(s63)s), ''
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS c,
                 LATERAL (SELECT (ARRAY['customization','special_request','delivery','training','support',
                                        'pricing','care','other'])[pg_temp.n(1, 8, c, %(s64)s)] AS kind) k
            WHERE pg_temp.r(c, %(s60)s) < 0.4
        """,
            self._span(first_id),
        )

    def _risk_params(self) -> dict[str, Any]:
        """The shares of :data:`RISK_SHARES`, each drawn from a salt of its own."""
        return {
            **{f"share_{name}": share for name, share in RISK_SHARES.items()},
            **{f"salt_{name}": self.s(900 + i) for i, name in enumerate(RISK_SHARES)},
            "recent_days": RECENT_ORDER_DAYS,
            "late_days": LATE_DAYS,
            "recent_cancelled": RECENT_CANCELLED,
        }

    def _transactions(self, first_id: int) -> None:
        """About ``k`` orders per customer over three years, with realistic payment states:
        an order past its due date is settled, a few cancelled or refunded; only the few
        late payers (``RISK_SHARES``) owe on orders of their last months.  Every customer
        has ordered recently but the few who drifted away, whose orders stop most of a
        year ago."""
        products = list(Product.objects.order_by("id").values_list("id", "list_price"))
        self._run(
            "transactions.transaction",
            """
            INSERT INTO transactions_transaction (created_at, updated_at, version, customer_id, product_id,
                description, quantity, unit_price, amount, currency, order_date, payment_method, status, due_date,
                paid_date, paid_amount, refunded_amount, source, external_ref, sales_rep_id, notes)
            SELECT now(), now(), 1, cu.id, (%(product_ids)s::bigint[])[pi], '', qty, price, qty * price, 'CNY',
                order_date, (ARRAY['bank_transfer','bank_transfer','bank_transfer','alipay','wechat_pay','card',
                                   'cash','acceptance_bill'])[pg_temp.n(1, 8, key, %(s71)s)],
                status, order_date + cu.payment_terms_days,
                CASE WHEN status IN ('paid','completed')
                     THEN least(order_date + pg_temp.n(0, cu.payment_terms_days + 10, key, %(s72)s), current_date) END,
                CASE WHEN status IN ('paid','completed') THEN qty * price
                     WHEN status = 'shipped' AND pg_temp.r(key, %(s73)s) < 0.3 THEN round(qty * price * 0.3, 2)
                     ELSE 0 END,
                CASE WHEN status = 'refunded' THEN qty * price ELSE 0 END,
                src, CASE WHEN src = 'manual' THEN '' ELSE upper(src) || '-' || cu.id || '-' || j END,
                cu.owner_id, ''
            FROM customers_customer cu,
                 generate_series(1, %(max_per)s) AS j,
                 LATERAL (SELECT cu.id * 64 + j AS key,
                                 pg_temp.r(cu.id, %(salt_late_payer)s) < %(share_late_payer)s AS late,
                                 pg_temp.r(cu.id, %(salt_drifting)s) < %(share_drifting)s AS drifting) k,
                 LATERAL (SELECT pg_temp.n(1, array_length(%(product_ids)s::bigint[], 1), key, %(s74)s) AS pi,
                                 pg_temp.n(1, 20, key, %(s75)s)::numeric AS qty,
                                 CASE WHEN drifting THEN current_date - pg_temp.n(240, 1095, key, %(s76)s)
                                      WHEN j = 1 THEN current_date - pg_temp.n(0, %(recent_days)s, key, %(s76)s)
                                      ELSE current_date - pg_temp.n(0, 1095, key, %(s76)s) END AS order_date,
                                 pg_temp.r(key, %(s77)s) AS rs,
                                 CASE WHEN pg_temp.r(key, %(s78)s) < 0.6 THEN 'erp'
                                      WHEN pg_temp.r(key, %(s78)s) < 0.9 THEN 'shop' ELSE 'manual' END AS src) v,
                 LATERAL (SELECT (%(prices)s::numeric[])[pi] AS price,
                                 CASE WHEN rs < 0.04 AND (order_date <= current_date - 90 OR rs < %(recent_cancelled)s)
                                      THEN 'cancelled'
                                      WHEN rs >= 0.04 AND rs < 0.06 THEN 'refunded'
                                      WHEN order_date + cu.payment_terms_days < current_date
                                      THEN CASE WHEN late AND order_date > current_date - %(late_days)s AND rs < 0.45
                                                THEN 'pending' WHEN rs < 0.30 THEN 'paid' ELSE 'completed' END
                                      WHEN order_date > current_date - 60 AND rs < 0.40 THEN 'pending'
                                      WHEN order_date > current_date - 60 AND rs < 0.60 THEN 'shipped'
                                      WHEN rs < 0.13 THEN 'pending'
                                      WHEN rs < 0.30 THEN 'paid' ELSE 'completed' END AS status) s
            WHERE cu.id BETWEEN %(first)s AND %(last)s
              AND j <= pg_temp.n(1, 2 * %(k)s - 1, cu.id, %(s70)s)
        """,
            {
                **self._span(first_id),
                **self._risk_params(),
                "k": self.k,
                "max_per": max(1, 2 * self.k - 1),
                "product_ids": [p for p, _ in products],
                "prices": [str(price) for _, price in products],
            },
        )

    def _payments(self, first_id: int) -> None:
        """The payment records behind the orders' paid figures, in one statement: one
        payment per order that received money (recorded by its rep, on its paid date), and
        for a refunded order the refund of all of it a few days later.  The orders already
        show what these records say, so the database's recomputation changes nothing."""
        self._run(
            "transactions.payment",
            """
            INSERT INTO transactions_payment (created_at, updated_at, version, customer_id, order_id, kind, paid_on,
                amount, method, reference, reason, recorded_by_id, notes)
            SELECT now(), now(), 1, t.customer_id, t.id, p.kind, p.paid_on, p.amount, t.payment_method,
                CASE WHEN t.external_ref = '' THEN '' ELSE 'HK-' || t.external_ref END, p.reason, t.sales_rep_id, ''
            FROM transactions_transaction t,
                 LATERAL (SELECT least(t.order_date + pg_temp.n(0, 30, t.id, %(s86)s), current_date) AS paid) d,
                 LATERAL (
                     SELECT 'payment' AS kind, coalesce(t.paid_date, d.paid) AS paid_on,
                            t.paid_amount + t.refunded_amount AS amount, '' AS reason
                     UNION ALL
                     SELECT 'refund', least(d.paid + pg_temp.n(1, 10, t.id, %(s87)s), current_date),
                            -t.refunded_amount, '客户退货，全额退款'
                     WHERE t.refunded_amount > 0
                 ) p
            WHERE t.customer_id BETWEEN %(first)s AND %(last)s AND t.paid_amount + t.refunded_amount > 0
        """,
            self._span(first_id),
        )

    def _service_records(self, first_id: int) -> None:
        self._run(
            "feedback.servicerecord",
            """
            INSERT INTO feedback_servicerecord (created_at, updated_at, version, customer_id, service_date,
                service_type, staff_id, staff_name, product_id, content, result, rating, customer_comment)
            SELECT now(), now(), 1, cu.id, current_date - pg_temp.n(0, 720, key, %(s81)s), stype, NULL,
                pg_temp.pick(%(surnames)s::text[], key, %(s82)s) || '工',
                NULL,
                CASE stype WHEN 'installation' THEN '设备安装调试' WHEN 'repair' THEN '故障排查与维修'
                           WHEN 'consulting' THEN '工艺改进咨询' WHEN 'training' THEN '操作人员培训'
                           ELSE '定期保养巡检' END,
                (ARRAY['resolved','resolved','resolved','partial','follow_up','unresolved'])
                    [pg_temp.n(1, 6, key, %(s83)s)],
                (ARRAY[5,5,5,5,4,4,4,3,3,2,1])[pg_temp.n(1, 11, key, %(s84)s)], ''
            FROM customers_customer cu, generate_series(1, 2) AS j,
                 LATERAL (SELECT cu.id * 2 + j AS key) k,
                 LATERAL (SELECT (ARRAY['installation','repair','consulting','training','maintenance'])
                                     [pg_temp.n(1, 5, cu.id * 2 + j, %(s85)s)] AS stype) t
            WHERE cu.id BETWEEN %(first)s AND %(last)s AND cu.lifecycle_stage <> 'prospect'
              AND j <= pg_temp.n(0, 2, cu.id, %(s80)s)
        """,
            {**self._span(first_id), "surnames": SURNAMES},
        )

    def _feedback(self, first_id: int) -> None:
        self._run(
            "feedback.feedback",
            """
            INSERT INTO feedback_feedback (created_at, updated_at, version, customer_id, contact_id, kind, channel,
                subject, content, received_at, status, handler_id, response, responded_at)
            SELECT now(), now(), 1, cu.id, NULL, fkind,
                (ARRAY['phone','email','wechat','visit','survey','web'])[pg_temp.n(1, 6, cu.id, %(s91)s)],
                CASE fkind WHEN 'complaint' THEN (ARRAY['到货延迟','产品质量问题','发票开具错误','售后响应慢'])
                                                    [pg_temp.n(1, 4, cu.id, %(s92)s)]
                          WHEN 'suggestion' THEN '建议增加夜间配送与电子对账'
                          WHEN 'praise' THEN '感谢工程师快速上门解决问题'
                          ELSE '咨询新品价格与交期' END,
                '', received, fstatus, cu.owner_id,
                CASE WHEN fstatus = 'new' THEN '' ELSE '已联系客户并给出处理方案' END,
                CASE WHEN fstatus = 'new' THEN NULL ELSE received + interval '1 day' END
            FROM customers_customer cu,
                 LATERAL (SELECT (ARRAY['suggestion','complaint','complaint','praise','question'])
                                     [pg_temp.n(1, 5, cu.id, %(s93)s)] AS fkind,
                                 now() - make_interval(days => pg_temp.n(0, 365, cu.id, %(s94)s)) AS received,
                                 (ARRAY['new','in_progress','resolved','resolved','closed'])
                                     [pg_temp.n(1, 5, cu.id, %(s95)s)] AS fstatus) f
            WHERE cu.id BETWEEN %(first)s AND %(last)s AND pg_temp.r(cu.id, %(s90)s) < 0.5
        """,
            self._span(first_id),
        )

    def _complaint_spikes(self, first_id: int) -> None:
        """The few customers who had a bad month (``RISK_SHARES``): three or four
        complaints in the last three weeks, not handled yet."""
        self._run(
            "feedback.feedback",
            """
            INSERT INTO feedback_feedback (created_at, updated_at, version, customer_id, contact_id, kind, channel,
                subject, content, received_at, status, handler_id, response, responded_at)
            SELECT now(), now(), 1, cu.id, NULL, 'complaint',
                (ARRAY['phone','email','wechat','visit','survey','web'])[pg_temp.n(1, 6, key, %(s91)s)],
                (ARRAY['到货延迟','产品质量问题','发票开具错误','售后响应慢'])[pg_temp.n(1, 4, key, %(s92)s)],
                '',
                now() - make_interval(days => pg_temp.n(0, 20, key, %(s94)s), hours => pg_temp.n(1, 9, key, %(s95)s)),
                'new', cu.owner_id, '', NULL
            FROM customers_customer cu, generate_series(1, 4) AS j,
                 LATERAL (SELECT cu.id * 4 + j AS key) k
            WHERE cu.id BETWEEN %(first)s AND %(last)s
              AND pg_temp.r(cu.id, %(salt_complaining)s) < %(share_complaining)s
              AND j <= pg_temp.n(3, 4, cu.id, %(s93)s)
        """,
            {**self._span(first_id), **self._risk_params()},
            bulk=False,  # a few rows into the table the feedback just filled
        )

    def _satisfaction(self, first_id: int) -> None:
        """Up to two survey answers per customer over a year and a half, each customer
        about as satisfied each time; the few souring customers (``RISK_SHARES``) answered
        the last one clearly worse than the one before."""
        self._run(
            "feedback.satisfactionresponse",
            """
            INSERT INTO feedback_satisfactionresponse (created_at, updated_at, version, customer_id, contact_id,
                responded_at, method, csat, nps, comment)
            SELECT now(), now(), 1, cu.id, NULL, now() - make_interval(days => days_ago),
                (ARRAY['online','phone','interview','email'])[pg_temp.n(1, 4, key, %(s42)s)],
                csat, least(10, greatest(0, csat * 2 + pg_temp.n(-1, 1, key, %(s43)s))), ''
            FROM customers_customer cu, generate_series(1, 2) AS j,
                 LATERAL (SELECT cu.id * 2 + j AS key,
                                 pg_temp.r(cu.id, %(salt_souring)s) < %(share_souring)s AS souring) k,
                 LATERAL (SELECT CASE WHEN NOT souring THEN pg_temp.n(0, 540, key, %(s41)s)
                                      WHEN j = 1 THEN pg_temp.n(5, 80, key, %(s41)s)
                                      ELSE pg_temp.n(120, 400, key, %(s41)s) END AS days_ago,
                                 (ARRAY[5,5,5,4,4,4,4,3,3,2,1])[pg_temp.n(1, 11, cu.id, %(s44)s)] AS usual) u,
                 LATERAL (SELECT CASE WHEN souring AND j = 1 THEN greatest(1, usual - 2) ELSE usual END AS csat) c
            WHERE cu.id BETWEEN %(first)s AND %(last)s AND cu.lifecycle_stage <> 'prospect'
              AND j <= CASE WHEN souring THEN 2 ELSE pg_temp.n(0, 2, cu.id, %(s45)s) END
        """,
            {**self._span(first_id), **self._risk_params()},
        )

    def _participations(self, first_id: int) -> None:
        """Customers invited to each campaign, as the product's own invitation does it, and
        their way down the funnel.

        About one customer in thirty is invited to each campaign (at most about 150 per
        campaign, the size of a real guest list, however many customers are loaded), through
        a contact who consents to marketing (a customer without one is not invited), two
        weeks before the start.  A participant converts only with an order (not cancelled
        or refunded) placed from the day of the invitation up to the end of the attribution
        window (``CRM_CAMPAIGN_ATTRIBUTION_DAYS``); the participation links the first of
        them.  Of the participants drawn to convert, in the order of the draw, those convert
        whose orders keep the campaign's attributed revenue within its target revenue; the
        others stop at "responded".  So no campaign shows revenue from an order placed
        before its invitation, and none returns more than its target (five times the budget
        in this demo: an ROI of at most 400%).
        """
        campaign_ids = list(
            Campaign.objects.filter(name__in=[c[0] for c in CAMPAIGNS]).order_by("id").values_list("id", flat=True)
        )
        self._run(
            "campaigns.participation",
            """
            INSERT INTO campaigns_participation (created_at, updated_at, version, campaign_id, customer_id,
                contact_id, status, invited_at, registered_at, attended_at, responded_at, converted_at,
                transaction_id, feedback)
            SELECT now(), now(), 1, campaign_id, customer_id, contact_id,
                (ARRAY['invited','registered','attended','responded','converted'])[step],
                -- Each step at its day of the campaign, and none after today: what has
                -- happened has happened by now.  The conversion on the day of its first
                -- order, and not before the response.
                invited,
                CASE WHEN step >= 2 THEN least(start_date - 7 + time '10:00', now()) END,
                CASE WHEN step >= 3 THEN least(start_date + time '10:00', now()) END,
                CASE WHEN step >= 4 THEN least(start_date + 3 + time '10:00', now()) END,
                CASE WHEN step >= 5 THEN least(greatest(won_date + time '10:00', start_date + 3 + time '10:00'),
                                               now()) END,
                CASE WHEN step >= 5 THEN won_id END,
                ''
            FROM (
                SELECT *, CASE WHEN planned THEN 1
                               WHEN drawn AND won_id IS NOT NULL AND running <= target THEN 5
                               WHEN drawn THEN 4
                               ELSE pg_temp.n(1, 4, key, %(s48)s) END AS step
                FROM (
                    SELECT ca.id AS campaign_id, ca.start_date, ca.status = 'planned' AS planned,
                        coalesce(ca.target_revenue, ca.budget * 5) AS target, cu.id AS customer_id,
                        contact.id AS contact_id, i.invited, won.id AS won_id, won.order_date AS won_date, k.key,
                        k.drawn,
                        sum(CASE WHEN k.drawn THEN won.revenue END)
                            OVER (PARTITION BY ca.id ORDER BY pg_temp.r(k.key, %(s50)s), cu.id) AS running
                    FROM campaigns_campaign ca
                    JOIN customers_customer cu ON cu.id BETWEEN %(first)s AND %(last)s
                    CROSS JOIN LATERAL (SELECT cu.id * 100 + ca.id AS key,
                                               pg_temp.r(cu.id * 100 + ca.id, %(s49)s) < 0.3 AS drawn) k
                    CROSS JOIN LATERAL (SELECT least(ca.start_date - 14 + time '10:00', now()) AS invited) i
                    CROSS JOIN LATERAL (SELECT (i.invited AT TIME ZONE %(tz)s)::date AS since) d
                    CROSS JOIN LATERAL (SELECT c.id FROM customers_contact c
                                        WHERE c.customer_id = cu.id AND c.marketing_consent
                                        ORDER BY c.is_primary DESC, c.is_decision_maker DESC, c.id LIMIT 1) contact
                    CROSS JOIN LATERAL (SELECT (array_agg(t.id ORDER BY t.order_date, t.id))[1] AS id,
                                               min(t.order_date) AS order_date, sum(t.amount) AS revenue
                                        FROM transactions_transaction t
                                        WHERE t.customer_id = cu.id AND t.status NOT IN ('cancelled', 'refunded')
                                          AND t.order_date BETWEEN d.since AND d.since + %(window)s) won
                    WHERE ca.id = ANY(%(campaigns)s)
                      AND pg_temp.r(k.key, %(s47)s) < least(0.033, 150.0 / %(n)s)
                ) invited
            ) funnel
            ON CONFLICT (campaign_id, customer_id) DO NOTHING
        """,
            {
                **self._span(first_id),
                "campaigns": campaign_ids,
                "n": self.n,
                "tz": settings.TIME_ZONE,
                "window": settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS,
            },
        )

    # ----------------------------------------------------------- archive queues
    def _change_requests(self, first_id: int) -> None:
        """A few changes reps proposed to fields they may only propose (``PROPOSALS``),
        waiting for their manager: made as a rep makes them (``change_propose``, each
        audited as the rep's), on customers of their own drawn by the seed."""
        started = time.perf_counter()
        rng = random.Random(self.seed)
        made = 0
        for username, field_name in PROPOSALS:
            rep = self.users.get(username) or User.objects.filter(username=username).first()
            if rep is None:
                continue
            book = Customer.objects.filter(owner=rep, pk__gte=first_id).order_by("pk")
            if field_name == "credit_limit":
                book = book.filter(credit_limit__gt=0, lifecycle_stage__in=("active", "key"))
            elif field_name == "tax_id":
                book = book.filter(tax_id="")
            else:
                book = book.filter(payment_terms_days__lt=90)
            ids = list(book.values_list("pk", flat=True))
            if not ids:
                continue
            customer = Customer.objects.get(pk=rng.choice(ids))
            if field_name == "credit_limit":
                value: Any = (customer.credit_limit or Decimal(0)) * Decimal("1.5")
                value = value.quantize(Decimal(1000))
            elif field_name == "tax_id":
                # The customer's unified code as the seeder writes one: unique, as it is its own.
                value = f"91{customer.postal_code[:-3]:0>6}{customer.pk:09X}{chr(65 + customer.pk % 26)}"
            else:
                value = 60 if customer.payment_terms_days < 60 else 90
            if change_propose(
                actor=rep,
                resource="customers",
                instance=customer,
                data={field_name: value},
                expected_version=customer.version,
            ):
                made += 1
        self.report.counts["access.changerequest"] = made
        self.report.seconds["access.changerequest"] = time.perf_counter() - started
        self.log(f"  {'access.changerequest':<30} {made:>12,} rows  {time.perf_counter() - started:8.1f} s")

    def _duplicates(self) -> None:
        """The duplicate finder's first run, so that the review queue shows the twins
        (and any customer of the database that looks like another) from the start: in
        the load up to ``FINDER_IN_LOAD_MAX`` customers, for a larger book by a worker
        once the load is committed."""
        started = time.perf_counter()
        if Customer.objects.count() > FINDER_IN_LOAD_MAX:
            transaction.on_commit(find_duplicates_task.delay)
            self.log(f"  {'duplicates.duplicatecandidate':<30} the duplicate finder is queued for a worker")
            return
        result = find_duplicates()
        elapsed = time.perf_counter() - started
        self.report.counts["duplicates.duplicatecandidate"] = result.pairs
        self.report.seconds["duplicates.duplicatecandidate"] = elapsed
        self.log(f"  {'duplicates.duplicatecandidate':<30} {result.pairs:>12,} pairs {elapsed:8.1f} s")
