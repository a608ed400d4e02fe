"""Duplicate finder time at scale, against the bare blocking self-join, with its recall
and precision on seeded near-duplicates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/duplicates.py --customers 100000

Writes customers (use a scratch database, migrated).  It seeds ``--customers`` distinct
companies (a city, two characters of a name, a trade, a legal form; a mobile and a tax
id each) and, for 1% of them, a second record of the same company written another way,
in turns: another legal form (有限公司 → 股份有限公司 / 集团有限公司), full-width letters
and a place in brackets, a typo in the name with the same phone, and the old 15-character
tax id with the same phone in another city.  Then it runs the finder (as
``find_duplicates --sync`` does) and prints its time beside the floor: the same blocking
self-joins (tax id core, phone digits, e-mail, domain, name in a place, the rarest
trigrams of names in a place) on keys computed in SQL, counting the pairs without
scoring, checking or writing them.
Recall is the share of seeded pairs the finder proposes; precision the share of proposed
pairs that were seeded.
"""

from __future__ import annotations

import argparse
import random
import time

from _setup import django_setup, line

CITIES = [("杭州", "浙江省"), ("宁波", "浙江省"), ("上海", "上海市"), ("北京", "北京市"), ("深圳", "广东省"),
          ("广州", "广东省"), ("苏州", "江苏省"), ("南京", "江苏省"), ("成都", "四川省"), ("武汉", "湖北省"),
          ("西安", "陕西省"), ("重庆", "重庆市"), ("天津", "天津市"), ("青岛", "山东省"), ("长沙", "湖南省"),
          ("郑州", "河南省"), ("合肥", "安徽省"), ("福州", "福建省"), ("厦门", "福建省"),
          ("昆明", "云南省")]  # fmt: skip
CHARS = ("明远达通华信恒泰鼎盛嘉禾瑞丰宏源金鑫博睿天成中科新力永安汇隆海川云帆正阳德润兴业安泰联创"
         "卓越东方宇航星辰凯旋银河万象启航祥瑞百川同舟远景伟业飞腾振兴腾龙凤凰")  # fmt: skip
TRADES = ("科技", "贸易", "物流", "电子", "机械", "化工", "医药", "食品", "建材", "纺织", "软件", "能源",
          "环保", "传媒", "咨询", "设备", "材料", "包装", "汽车配件", "精密仪器")  # fmt: skip
FORMS = ("有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
FULL_WIDTH = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ()", "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ（）")


def seed(total: int, rng: random.Random, reuse: bool = False) -> set[tuple[int, int]]:
    """``total`` distinct companies and 1% seeded twins; returns the twins' pairs (a < b).
    ``reuse``: the book this seed wrote before is still there (the same count): keep it."""
    from django.db import connection

    from crm.accounts.models import User
    from customers.models import Customer

    owner, _created = User.objects.get_or_create(username="bench-dupes", defaults={"role": "rep"})
    names: set[str] = set()
    rows = []
    while len(rows) < total:
        city, province = rng.choice(CITIES)
        core = "".join(rng.sample(CHARS, 2)) + rng.choice(TRADES)
        prefix = rng.choice(("", "", "", chr(65 + rng.randrange(26)) + chr(65 + rng.randrange(26))))
        key = f"{city}|{prefix}{core}"
        if key in names:
            continue
        names.add(key)
        n = len(rows)
        rows.append(
            {
                "name": f"{city}{prefix}{core}{rng.choice(FORMS)}",
                "city": city,
                "province": province,
                "phone": f"139{n:08d}",
                "tax_id": f"91{n:06d}{n % 9973:09d}X",
                "email": f"info@c{n}.com.cn" if n % 3 == 0 else "",
            }
        )
    twins = []
    for index, original in enumerate(rng.sample(range(total), total // 100)):
        source = rows[original]
        twin = {**source, "tax_id": f"93{total + index:06d}{index:09d}Y", "phone": "", "email": ""}
        name = source["name"]
        stem = next(name.removesuffix(form) for form in sorted(FORMS, key=len, reverse=True) if name.endswith(form))
        kind = index % 4
        if kind == 0:  # another legal form
            twin["name"] = stem + rng.choice([form for form in FORMS if not name.endswith(form)])
        elif kind == 1:  # full-width letters, a place in brackets, spaces
            twin["name"] = f"{stem}（{source['city']}）有限公司".translate(FULL_WIDTH).replace(
                source["city"], source["city"] + " ", 1
            )
        elif kind == 2:  # a typo in the name, the same phone
            body = stem.removeprefix(source["city"])
            spot = rng.randrange(len(body))
            typo = body[:spot] + rng.choice([c for c in CHARS if c != body[spot]]) + body[spot + 1 :]
            twin["name"] = source["city"] + typo + "有限公司"
            twin["phone"] = "+86 " + source["phone"][:3] + " " + source["phone"][3:7] + " " + source["phone"][7:]
        else:  # the old tax id, the same phone, another city
            twin["tax_id"] = source["tax_id"][2:17]
            twin["phone"] = source["phone"]
            twin["city"], twin["province"] = next(c for c in CITIES if c[0] != source["city"])
        twins.append((original, twin))
    if reuse and Customer.objects.count() == total + len(twins):
        ids = dict(Customer.objects.filter(code__startswith="B").values_list("code", "pk"))
        print(f"reusing the {len(ids)} customers seeded before", flush=True)
        return {
            tuple(sorted((ids[f"B{original:08d}"], ids[f"B{total + offset:08d}"])))  # type: ignore[misc]
            for offset, (original, _twin) in enumerate(twins)
        }
    started = time.perf_counter()
    with connection.cursor() as cursor:  # a scratch book: whatever was seeded before goes
        cursor.execute("TRUNCATE customers_customer CASCADE")
    made = Customer.objects.bulk_create(
        [Customer(code=f"B{n:08d}", owner=owner, **row) for n, row in enumerate([*rows, *(t for _, t in twins)])],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    print(f"seeded {len(made)} customers ({len(twins)} twins) in {time.perf_counter() - started:.1f} s", flush=True)
    pairs = set()
    for offset, (original, _twin) in enumerate(twins):
        first, second = made[original].pk, made[total + offset].pk
        pairs.add((min(first, second), max(first, second)))
    return pairs


FLOOR_SQL = r"""
CREATE TEMPORARY TABLE floor_keys AS
SELECT id AS customer_id, 'tax' AS kind,
       CASE WHEN length(tax_id) = 18 THEN substr(tax_id, 3, 15) ELSE tax_id END AS value
  FROM customers_customer WHERE tax_id <> ''
UNION ALL
SELECT id, 'phone', right(regexp_replace(phone, '[^0-9]', '', 'g'), 11) FROM customers_customer WHERE phone <> ''
UNION ALL
SELECT id, 'email', lower(email) FROM customers_customer WHERE email <> ''
UNION ALL
SELECT id, 'domain', split_part(lower(email), '@', 2) FROM customers_customer WHERE email <> '';
CREATE TEMPORARY TABLE floor_names AS
SELECT id AS customer_id, coalesce(nullif(city, ''), province) AS place,
       regexp_replace(lower(name), '[（(][^）)]*[）)]|股份有限公司|有限责任公司|有限公司|集团|公司|\s', '', 'g')
       AS name_key
  FROM customers_customer;
ANALYZE floor_keys; ANALYZE floor_names;
CREATE TEMPORARY TABLE floor_prefix AS
WITH grams AS (
  SELECT customer_id, place, gram FROM floor_names, unnest(show_trgm(name_key)) AS gram
), ranked AS (
  SELECT g.customer_id, g.place, g.gram, f.n,
         row_number() OVER (PARTITION BY g.customer_id ORDER BY f.n, g.gram) AS r,
         count(*) OVER (PARTITION BY g.customer_id) AS size
  FROM grams g JOIN (SELECT place, gram, count(*) AS n FROM grams GROUP BY place, gram) f
    ON f.place = g.place AND f.gram = g.gram
)
SELECT customer_id, place, gram FROM ranked WHERE n > 1 AND r <= size - ceil(0.8 * size - 1e-9) + 1;
SELECT count(*) FROM (
  SELECT a.customer_id, b.customer_id FROM floor_keys a JOIN floor_keys b
    ON a.kind = b.kind AND a.value = b.value AND a.customer_id < b.customer_id
  UNION
  SELECT a.customer_id, b.customer_id FROM floor_prefix a JOIN floor_prefix b
    ON a.place = b.place AND a.gram = b.gram AND a.customer_id < b.customer_id
) pairs;
"""


def floor() -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in FLOOR_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
        transaction.set_rollback(True)
    return time.perf_counter() - started


def finder() -> float:
    from duplicates.finder import find_duplicates

    started = time.perf_counter()
    find_duplicates()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="runs of each, the median is printed")
    parser.add_argument("--reuse", action="store_true", help="keep the book seeded before with the same sizes")
    args = parser.parse_args()
    django_setup()
    from duplicates.models import DuplicateCandidate

    seeded = seed(args.customers, random.Random(args.seed), reuse=args.reuse)
    times = [(floor(), finder()) for _ in range(args.runs)]
    floor_s = sorted(t[0] for t in times)[len(times) // 2]
    finder_s = sorted(t[1] for t in times)[len(times) // 2]
    line(f"find_duplicates, {args.customers} customers", finder_s, floor_s, "s")
    found = set(DuplicateCandidate.objects.filter(status="open").values_list("customer_a_id", "customer_b_id"))
    hits = len(found & seeded)
    recall = hits / len(seeded) if seeded else 1.0
    precision = hits / len(found) if found else 1.0
    print(f"pairs proposed {len(found)}, seeded {len(seeded)}, found of them {hits}", flush=True)
    print(f"recall {recall:.1%} (goal ≥ 95%), precision {precision:.1%} (goal ≥ 90%)", flush=True)


if __name__ == "__main__":
    main()
