-- The comparator: all 23 rules (C01–C08, P01–P06, E01–E09) in plain DuckDB SQL over the clean
-- demo layout (`cardcheck demo --clean`), written as an analyst would write them from the rule
-- definitions (cardcheck/rules/*: Finds / Why / Known false positive, fixtures/rules/*.yaml,
-- configs/*.yaml), without importing cardcheck. It reads the CSVs as text, parses them, runs
-- every rule and writes its findings to {out} (one row per finding, keyed like cardcheck's
-- findings.csv: rule, household_id, id_number, card_no, fund, hub).
--
-- {dir} is replaced by the demo folder, {out} by the findings file to write. Run it with
-- `duckdb.connect().execute(text)` (benchmarks/bench.py, tests/test_duckdb_baseline.py).
--
-- What it assumes of the inputs (the clean layout), where cardcheck's readers do more:
-- - the file names and headers of the clean demo; UTF-8 CSV, one header line, no title,
--   totals or footer rows; money in 元 with up to two decimals; dates as yyyy-mm-dd;
-- - canonical fund names in 救助类别 (no variant spellings to map), directions C/D, 是/否;
-- - names compared by a key that drops spaces and unifies the middle dots (no NFKC folding);
-- - no reversals (negative rows) to net, no damaged card numbers (E09 card_damaged), and no
--   ID number column in 代发明细, so the paths of C01, C02, E09 and the payment attribution
--   that work from a payment's own ID number have nothing to work on and are left out.
-- Thresholds and lists are those of configs/rules.yaml, funds.yaml and references.yaml,
-- written out below (the `spec_*` tables and the rule sections).
-- What a finding carries: its keys, first and last month, months and money (fen), as cardcheck's
-- findings.csv has them; not the severity (C04's and P05's raised to high) nor evidence text.
-- One mapping is not key for key inside: an entry (what P01–P06 and E01–E08 reconcile) is keyed
-- here by its text (type|fund|household, person or card) where cardcheck numbers the same keys.

-- ------------------------------------------------------------------ helpers

-- every file as text, in the layout's dialect (declared: sniffing it costs more than reading it)
CREATE OR REPLACE MACRO csv(path) AS TABLE
  SELECT * FROM read_csv(path, all_varchar = true, header = true, delim = ',', quote = '"', escape = '"');

CREATE OR REPLACE MACRO txt(x) AS nullif(trim(x), '');
CREATE OR REPLACE MACRO fen(x) AS CAST(round(CAST(txt(x) AS DECIMAL(18, 2)) * 100) AS BIGINT);
CREATE OR REPLACE MACRO ym(d) AS CAST(year(d) * 100 + month(d) AS INTEGER);
CREATE OR REPLACE MACRO midx(m) AS (m // 100) * 12 + m % 100 - 1;
CREATE OR REPLACE MACRO add_months(m, n) AS
  CAST(((midx(m) + n) // 12) * 100 + (midx(m) + n) % 12 + 1 AS INTEGER);
CREATE OR REPLACE MACRO name_key(x) AS
  nullif(upper(regexp_replace(regexp_replace(x, '\s', '', 'g'), '[·•・･‧．.⋅∙丶]', '·', 'g')), '');
-- GB 11643: the check character of an ID's first 17 digits
CREATE OR REPLACE MACRO id_check(s) AS CASE WHEN regexp_full_match(substr(s, 1, 17), '\d{17}')
  THEN substr('10X98765432', CAST((
    7 * CAST(substr(s, 1, 1) AS INT) + 9 * CAST(substr(s, 2, 1) AS INT)
    + 10 * CAST(substr(s, 3, 1) AS INT) + 5 * CAST(substr(s, 4, 1) AS INT)
    + 8 * CAST(substr(s, 5, 1) AS INT) + 4 * CAST(substr(s, 6, 1) AS INT)
    + 2 * CAST(substr(s, 7, 1) AS INT) + 1 * CAST(substr(s, 8, 1) AS INT)
    + 6 * CAST(substr(s, 9, 1) AS INT) + 3 * CAST(substr(s, 10, 1) AS INT)
    + 7 * CAST(substr(s, 11, 1) AS INT) + 9 * CAST(substr(s, 12, 1) AS INT)
    + 10 * CAST(substr(s, 13, 1) AS INT) + 5 * CAST(substr(s, 14, 1) AS INT)
    + 8 * CAST(substr(s, 15, 1) AS INT) + 4 * CAST(substr(s, 16, 1) AS INT)
    + 2 * CAST(substr(s, 17, 1) AS INT)) % 11 AS INT) + 1, 1) END;
CREATE OR REPLACE MACRO birth_ok(s) AS
  coalesce(CAST(try_strptime(s, '%Y%m%d') AS DATE) BETWEEN DATE '1900-01-01' AND current_date,
           false);
-- why an ID (upper-cased) cannot be matched, given its check character `chk` (a column, so that
-- it is computed once): ok / upgraded15 / token are usable
CREATE OR REPLACE MACRO id_status(c, chk) AS CASE
  WHEN c IS NULL THEN 'missing'
  WHEN regexp_full_match(c, 'T[0-9A-F]{24}') THEN 'token'
  WHEN regexp_full_match(c, '[+-]?\d+(\.\d+)?E[+-]?\d+')
    OR (regexp_full_match(c, '\d{15}000') AND chk <> substr(c, 18, 1)) THEN 'precision_lost'
  WHEN regexp_full_match(c, '\d{17}[\dX]') AND NOT birth_ok(substr(c, 7, 8)) THEN 'bad_birth_date'
  WHEN regexp_full_match(c, '\d{17}[\dX]') AND chk <> substr(c, 18, 1) THEN 'bad_checksum'
  WHEN regexp_full_match(c, '\d{17}[\dX]') THEN 'ok'
  WHEN regexp_full_match(c, '\d{15}') AND NOT birth_ok('19' || substr(c, 7, 6)) THEN 'bad_birth_date'
  WHEN regexp_full_match(c, '\d{15}') THEN 'upgraded15'
  ELSE 'bad_format' END;
-- the match key: a valid 15-digit ID as its 18 digits, any other as written
CREATE OR REPLACE MACRO id_up(c) AS substr(c, 1, 6) || '19' || substr(c, 7, 9);
CREATE OR REPLACE MACRO id_key(c, st) AS CASE WHEN st = 'upgraded15' THEN id_up(c) || id_check(id_up(c))
  ELSE c END;
-- the key of an ID column without a status (payee, agent, official, relative)
CREATE OR REPLACE MACRO id_key1(c) AS CASE WHEN regexp_full_match(c, '\d{15}') AND birth_ok('19' || substr(c, 7, 6))
  THEN id_up(c) || id_check(id_up(c)) ELSE c END;
CREATE OR REPLACE MACRO usable(st) AS coalesce(st IN ('ok', 'upgraded15', 'token'), false);
-- an ID column without a status (payee, agent): usable when it looks like an ID or a token
CREATE OR REPLACE MACRO id_like(c) AS coalesce(regexp_full_match(c, '\d{17}[\dX]|T[0-9A-Fa-f]{24}'), false);
-- two sides are one person: equal IDs when both are usable, else equal name keys
CREATE OR REPLACE MACRO same_person(id_a, ok_a, key_a, id_b, ok_b, key_b) AS
  coalesce(CASE WHEN ok_a AND ok_b THEN id_a = id_b ELSE key_a = key_b END, false);
CREATE OR REPLACE MACRO phone_key(p) AS CASE
  WHEN length(regexp_replace(p, '\D', '', 'g')) = 13 AND starts_with(regexp_replace(p, '\D', '', 'g'), '86')
  THEN substr(regexp_replace(p, '\D', '', 'g'), 3)
  WHEN length(regexp_replace(p, '\D', '', 'g')) >= 7 THEN regexp_replace(p, '\D', '', 'g') END;

-- ------------------------------------------------------------------ settings (configs/*.yaml)

CREATE OR REPLACE TABLE spec_fund AS SELECT * FROM (VALUES
  (1, '城市低保', 'household', '城乡低保', 15, false,
   ['城市居民最低生活保障', '城市最低生活保障', '城市低保金', '城镇低保', '城市居民最低生活保障金',
    '城市低保', '城低保', '城保', '城市低保金', '城市最低生活保障', '城乡低保', '低保金', '低保']),
  (2, '农村低保', 'household', '城乡低保', 15, false,
   ['农村居民最低生活保障', '农村最低生活保障', '农村低保金', '农村居民最低生活保障金',
    '农村低保', '农低保', '农保', '农村低保金', '农村最低生活保障', '城乡低保', '低保金', '低保']),
  (3, '特困供养', 'person', '特困供养', 15, false,
   ['特困人员救助供养金', '特困人员救助供养', '特困供养金', '特困人员供养', '五保', '五保供养',
    '特困供养', '特困', '特困金', '供养金', '五保金', '五保']),
  (4, '临时救助', 'person', '临时救助', 31, true,
   ['临时救助金', '临时救助资金', '临时救助', '临救', '临时救助金']),
  (5, '孤儿基本生活费', 'person', '孤儿基本生活费', 15, false,
   ['孤儿基本生活保障金', '孤儿基本生活保障', '孤儿生活费', '孤儿保障金', '孤儿基本生活费',
    '孤儿生活费', '孤儿保障金', '孤儿金', '孤儿费']),
  (6, '困难残疾人生活补贴', 'person', '困难残疾人生活补贴', 15, false,
   ['残疾人生活补贴', '困难残疾人生活补贴金', '困难残疾人生活补贴', '残疾人生活补贴', '残疾生活补贴',
    '残生补', '残补']),
  (7, '重度残疾人护理补贴', 'person', '重度残疾人护理补贴', 15, false,
   ['残疾人护理补贴', '重度残疾人护理补贴金', '重度残疾人护理补贴', '残疾人护理补贴', '护理补贴',
    '残护补'])
) t(k, fund, level, family, deadline_day, one_off, words);

-- every text that names a fund in a memo (the fund's name first), with the funds it names: the
-- longest found in a memo decides, and of two as long the one listed first
CREATE OR REPLACE TABLE spec_memo_word AS
WITH w AS (
  SELECT fund, family, k * 100 AS ord, fund AS word FROM spec_fund
  UNION ALL
  SELECT fund, family, k * 100 + generate_subscripts(words, 1), unnest(words) FROM spec_fund
)
SELECT word, min(ord) AS ord, count(DISTINCT fund) AS n_funds,
       CASE WHEN count(DISTINCT fund) = 1 THEN min(fund) END AS memo_fund,
       CASE WHEN count(DISTINCT family) = 1 THEN min(family) END AS memo_family
FROM w GROUP BY word;

-- E06: funds one person may not receive in the same month
CREATE OR REPLACE TABLE spec_pair AS SELECT * FROM (VALUES
  ('城市低保', '特困供养'), ('农村低保', '特困供养'), ('特困供养', '困难残疾人生活补贴')
) t(fund_a, fund_b);

-- ------------------------------------------------------------------ inputs

CREATE OR REPLACE TABLE roll AS
WITH r AS (
  SELECT txt(行政区划代码) AS region_code, txt(乡镇) AS township, txt(村) AS village,
         txt(户编号) AS household_id, txt(姓名) AS name, upper(txt(身份证号码)) AS id_raw,
         txt(与户主关系) AS relation, txt(救助类别) AS fund, fen(月保障金额) AS monthly_amount,
         CAST(txt(保障起始日期) AS DATE) AS start_date, CAST(txt(终止日期) AS DATE) AS end_date,
         txt(银行卡号) AS card_no, txt(持卡人姓名) AS payee_name,
         id_key1(upper(txt(持卡人身份证号))) AS payee_id, txt(联系电话) AS phone
  FROM csv('{dir}/救助对象名册.csv')
), c AS (SELECT *, id_check(id_raw) AS chk FROM r
), s AS (SELECT *, id_status(id_raw, chk) AS id_status FROM c)
SELECT * EXCLUDE (id_raw, chk), id_key(id_raw, id_status) AS id_number,
       name_key(name) AS name_key, name_key(payee_name) AS payee_name_key
FROM s;

CREATE OR REPLACE TABLE other_roll AS
WITH r AS (
  SELECT substr(txt(行政区划代码), 1, 6) AS source_region, upper(txt(身份证号码)) AS id_raw,
         txt(救助类别) AS fund, CAST(txt(保障起始日期) AS DATE) AS start_date,
         CAST(txt(终止日期) AS DATE) AS end_date
  FROM csv('{dir}/外县名册.csv')
), c AS (SELECT *, id_check(id_raw) AS chk FROM r
), s AS (SELECT *, id_status(id_raw, chk) AS id_status FROM c)
SELECT * EXCLUDE (id_raw, chk), id_key(id_raw, id_status) AS id_number FROM s;

CREATE OR REPLACE TABLE accounts AS
WITH a AS (
  SELECT txt(卡号) AS card_no, txt(户名) AS holder_name, upper(txt(证件号码)) AS id_raw,
         txt(预留手机号) AS phone, txt(联系地址) AS address, txt(代办人姓名) AS agent_name,
         id_key1(upper(txt(代办人证件号))) AS agent_id
  FROM csv('{dir}/账户信息.csv')
), c AS (SELECT *, id_check(id_raw) AS chk FROM a
), s AS (SELECT *, id_status(id_raw, chk) AS holder_id_status FROM c)
SELECT * EXCLUDE (id_raw, chk), id_key(id_raw, holder_id_status) AS holder_id,
       name_key(holder_name) AS holder_name_key, name_key(agent_name) AS agent_name_key
FROM s;

CREATE OR REPLACE TABLE transactions AS
SELECT txt(卡号) AS card_no, ym(CAST(txt(交易时间) AS TIMESTAMP)) AS txn_month,
       upper(txt(借贷标志)) AS direction, fen(交易金额) AS amount,
       txt(对方账号) AS counterparty_account, txt(对方户名) AS counterparty_name
FROM csv('{dir}/交易流水.csv');

-- payments, with what their memo says: the fund it names (memo_fund; a memo naming a family such
-- as 低保金 names memo_family and no single fund), how many funds (memo_funds), whether it says
-- nothing (memo_generic), and the month it names (memo_period; a bare 4月 takes the pay date's
-- year, or the year before when it is later than the month after the pay month)
CREATE OR REPLACE TABLE payments AS
WITH p AS (
  SELECT CAST(txt(交易日期) AS DATE) AS pay_date, txt(账号) AS card_no, txt(户名) AS account_name,
         fen(金额) AS amount, txt(摘要) AS memo
  FROM csv('{dir}/代发明细.csv')
), memo AS (
  SELECT DISTINCT memo, regexp_replace(memo, '\s', '', 'g') AS t FROM p
), best AS (
  SELECT m.memo, w.memo_fund, w.memo_family, w.n_funds,
         row_number() OVER (PARTITION BY m.memo ORDER BY length(w.word) DESC, w.ord) AS n
  FROM memo m JOIN spec_memo_word w ON contains(m.t, w.word)
), reading AS (
  SELECT m.memo, m.t, b.memo_fund, b.memo_family, coalesce(b.n_funds, 0) AS memo_funds,
         CAST(nullif(regexp_extract(m.t, '((?:19|20)\d{2})\s*(?:年|-|\.|/)\s*(1[0-2]|0?[1-9])(?:[^\d季]|$)', 1), '') AS INT) * 100
         + CAST(nullif(regexp_extract(m.t, '((?:19|20)\d{2})\s*(?:年|-|\.|/)\s*(1[0-2]|0?[1-9])(?:[^\d季]|$)', 2), '') AS INT)
           AS ym_full,
         CAST(nullif(regexp_extract(m.t, '(?:^|\D)((?:19|20)\d{2}(?:0[1-9]|1[0-2]))(?:\D|$)', 1), '') AS INT)
           AS ym_compact,
         coalesce(
           CAST(nullif(regexp_extract(m.t, '(?:^|[^\d年])(1[0-2]|0?[1-9])月', 1), '') AS INT),
           CASE regexp_extract(m.t, '(?:^|[^十\d一二三四五六七八九〇零])(十[一二]|[一二三四五六七八九十])月', 1)
             WHEN '一' THEN 1 WHEN '二' THEN 2 WHEN '三' THEN 3 WHEN '四' THEN 4 WHEN '五' THEN 5
             WHEN '六' THEN 6 WHEN '七' THEN 7 WHEN '八' THEN 8 WHEN '九' THEN 9 WHEN '十' THEN 10
             WHEN '十一' THEN 11 WHEN '十二' THEN 12 END) AS bare_month,
         m.t IS NULL OR (coalesce(b.n_funds, 0) = 0 AND (
           regexp_full_match(m.t, '(代发|批量代发|工资|代发工资|转账|补助|补贴|其他|其它|资金|款项|汇款|入账|存入)+')
           OR regexp_matches(m.t, '村委|居委|村民委员会|居民委员会|村委会|居委会')
           OR regexp_full_match(m.t, '[\x{4e00}-\x{9fff}·]{2,4}'))) AS generic
  FROM memo m LEFT JOIN best b ON b.memo = m.memo AND b.n = 1
)
SELECT p.pay_date, ym(p.pay_date) AS pay_month, p.card_no, p.account_name, p.amount, p.memo,
       r.memo_fund, r.memo_family, r.memo_funds,
       coalesce(r.generic, true) OR coalesce(r.memo_funds = 0 AND r.t = name_key(p.account_name), false)
         AS memo_generic,
       CAST(coalesce(r.ym_full, r.ym_compact,
                     (year(p.pay_date) - CASE WHEN r.bare_month > month(p.pay_date) + 1 THEN 1 ELSE 0 END)
                     * 100 + r.bare_month) AS INTEGER) AS memo_period
FROM p LEFT JOIN reading r ON r.memo IS NOT DISTINCT FROM p.memo;

-- the reference lists in one table (list = the rule it reports under): who, and the window's dates
CREATE OR REPLACE TABLE ref_list AS
WITH l AS (
  SELECT 'E01' AS list, 身份证号码 AS id, 死亡日期 AS d_from, NULL AS d_to, NULL AS position,
         NULL AS household_id
  FROM csv('{dir}/死亡人员名单.csv')
  UNION ALL SELECT 'E02', 身份证号码, 入监日期, 刑满释放日期, NULL, NULL
  FROM csv('{dir}/服刑人员名单.csv')
  UNION ALL SELECT 'E03', 身份证号码, 入职日期, 离职日期, NULL, NULL
  FROM csv('{dir}/财政供养人员.csv')
  UNION ALL SELECT 'E04', 身份证号码, 成立日期, 注销日期, NULL, NULL
  FROM csv('{dir}/工商登记.csv')
  UNION ALL SELECT 'E05', 身份证号码, 领取起始日期, 停发日期, NULL, NULL
  FROM csv('{dir}/企业养老金.csv')
  UNION ALL SELECT 'officials', 身份证号码, NULL, NULL, 职务, 户编号
  FROM csv('{dir}/经办人员村干部.csv')
), r AS (
  SELECT list, upper(txt(id)) AS id_raw, CAST(txt(d_from) AS DATE) AS start_date,
         CAST(txt(d_to) AS DATE) AS end_date, txt(position) AS position,
         txt(household_id) AS household_id
  FROM l
), c AS (SELECT *, id_check(id_raw) AS chk FROM r
), s AS (SELECT *, id_status(id_raw, chk) AS id_status FROM c)
SELECT * EXCLUDE (id_raw, chk), id_key(id_raw, id_status) AS id_number FROM s;

CREATE OR REPLACE TABLE officials AS
SELECT id_number, id_status, household_id FROM ref_list WHERE list = 'officials';

CREATE OR REPLACE TABLE relatives AS
SELECT id_key1(upper(txt(干部身份证号))) AS official_id, id_key1(upper(txt(亲属身份证号))) AS relative_id,
       CASE txt(是否备案) WHEN '是' THEN 1 WHEN '否' THEN 0 END AS filed
FROM csv('{dir}/近亲属备案.csv');

-- ------------------------------------------------------------------ shared: households and cards

-- each household's place and head: its 户主, else a member with a usable ID, then the smallest ID
CREATE OR REPLACE TABLE household AS
WITH r AS (
  SELECT *, CASE WHEN relation = '户主' THEN '0' ELSE '1' END
            || CASE WHEN usable(id_status) THEN '0' ELSE '1' END || coalesce(id_number, '') AS rk
  FROM roll WHERE household_id IS NOT NULL
), best AS (SELECT household_id, min(rk) AS rk FROM r GROUP BY household_id)
SELECT household_id, min(id_number) FILTER (WHERE r.rk = b.rk) AS head_id,
       min(name) FILTER (WHERE r.rk = b.rk) AS head_name
FROM r JOIN best b USING (household_id) GROUP BY household_id;

-- whom each registered card belongs to: a 户主 first, then the smallest household and ID
CREATE OR REPLACE TABLE card_owner AS
WITH r AS (
  SELECT *, CASE WHEN relation = '户主' THEN '0' ELSE '1' END
            || coalesce(household_id, '') || coalesce(id_number, '') AS rk
  FROM roll WHERE card_no IS NOT NULL
), best AS (SELECT card_no, min(rk) AS rk FROM r GROUP BY card_no)
SELECT card_no, min(household_id) AS household_id, min(id_number) AS id_number
FROM r JOIN best USING (card_no, rk) GROUP BY card_no;

-- the funds the roll registers on each card
CREATE OR REPLACE TABLE card_fund AS
SELECT c.card_no, c.fund, coalesce(s.family, c.fund) AS family,
       count(*) OVER (PARTITION BY c.card_no) AS n_funds
FROM (SELECT DISTINCT card_no, fund FROM roll WHERE card_no IS NOT NULL AND fund IS NOT NULL) c
LEFT JOIN spec_fund s USING (fund);

-- money and pay months onto each card, whatever the fund
CREATE OR REPLACE TABLE card_paid AS
SELECT card_no, sum(amount) AS amount, min(pay_month) AS first_month, max(pay_month) AS last_month,
       count(DISTINCT pay_month) AS months
FROM payments WHERE card_no IS NOT NULL GROUP BY card_no;

-- per card and month: credits (credit transactions, or the payments when larger), whether
-- anything was drawn, how many transactions
CREATE OR REPLACE TABLE card_month AS
WITH m AS (
  SELECT card_no, txn_month AS month, CASE WHEN direction = 'C' THEN amount ELSE 0 END AS txn_in,
         0 AS paid_in, CASE WHEN direction = 'D' THEN 1 ELSE 0 END AS debit, 1 AS moves
  FROM transactions WHERE card_no IS NOT NULL
  UNION ALL
  SELECT card_no, pay_month, 0, amount, 0, 0 FROM payments WHERE card_no IS NOT NULL
)
SELECT card_no, month, sum(txn_in) AS txn_in, sum(paid_in) AS paid_in,
       greatest(sum(txn_in), sum(paid_in)) AS credit, max(debit) AS debit, sum(moves) AS moves
FROM m GROUP BY card_no, month;

-- which of its card's funds a payment pays (the card rules' reading): the fund its memo names,
-- or the family it names, or the card's only fund when the memo names none; a family memo on a
-- card with both funds of the family pays both; none: fund null. period = the memo's month, else
-- the pay month.
CREATE OR REPLACE TABLE pay_fund AS
WITH sig AS (
  SELECT DISTINCT card_no, coalesce(memo_fund, '') AS mf, coalesce(memo_family, '') AS mfam,
         memo_funds AS mn
  FROM payments
), j AS (
  SELECT s.*, c.fund,
         coalesce(c.fund = s.mf OR (s.mf = '' AND s.mfam = c.family) OR (s.mn = 0 AND c.n_funds = 1),
                  false) AS hit
  FROM sig s LEFT JOIN card_fund c USING (card_no)
), k AS (
  SELECT *, sum(CAST(hit AS INT)) OVER (PARTITION BY card_no, mf, mfam, mn) AS hits,
         min(fund) OVER (PARTITION BY card_no) AS first_fund
  FROM j
), reading AS (
  SELECT card_no, mf, mfam, mn, CASE WHEN hit THEN fund END AS fund
  FROM k WHERE hit OR (hits = 0 AND (fund IS NULL OR fund = first_fund))
)
SELECT p.*, r.fund, coalesce(p.memo_period, p.pay_month) AS period
FROM payments p JOIN reading r
  ON r.card_no = p.card_no AND r.mf = coalesce(p.memo_fund, '')
 AND r.mfam = coalesce(p.memo_family, '') AND r.mn = p.memo_funds;

-- ------------------------------------------------------------------ C01 一人多卡
-- (person, card) of every person (usable ID) registered to two or more cards; money = what was
-- paid onto the card (代发明细 has no ID column here: no card is linked by a payment's ID)

CREATE OR REPLACE TABLE f_c01 AS
WITH ok AS (SELECT * FROM roll WHERE usable(id_status)),
person AS (SELECT id_number, min(household_id) AS household_id FROM ok GROUP BY id_number),
links AS (SELECT DISTINCT id_number, card_no FROM ok WHERE card_no IS NOT NULL),
many AS (SELECT id_number FROM links GROUP BY id_number HAVING count(DISTINCT card_no) >= 2)
SELECT 'C01' AS rule, p.household_id, l.id_number, l.card_no, NULL AS fund, NULL AS hub,
       m.first_month, m.last_month, m.months, coalesce(m.amount, 0) AS amount
FROM links l JOIN many USING (id_number) JOIN person p USING (id_number)
LEFT JOIN card_paid m USING (card_no);

-- ------------------------------------------------------------------ C02 一户多卡
-- (household, card) of households whose 低保 (max_cards_per_household: 1) reaches two or more
-- cards: cards registered on its 低保 rows, and members' other cards a payment naming its fund
-- went to; money = what such payments brought onto the card

CREATE OR REPLACE TABLE f_c02 AS
WITH hh_row AS (
  SELECT * FROM roll
  WHERE household_id IS NOT NULL AND fund IN (SELECT fund FROM spec_fund WHERE level = 'household')
), hh_fund AS (
  SELECT DISTINCT h.household_id, h.fund, s.family FROM hh_row h JOIN spec_fund s USING (fund)
), registered AS (
  SELECT DISTINCT household_id, fund, card_no FROM hh_row WHERE card_no IS NOT NULL
), member_card AS (
  SELECT DISTINCT household_id, card_no FROM roll
  WHERE household_id IS NOT NULL AND card_no IS NOT NULL
), memo_paid AS (
  SELECT m.household_id, f.fund, p.card_no, p.amount, coalesce(p.memo_period, p.pay_month) AS period
  FROM payments p JOIN member_card m USING (card_no) JOIN hh_fund f USING (household_id)
  WHERE (p.memo_fund = f.fund OR (p.memo_fund IS NULL AND p.memo_family = f.family))
    AND NOT EXISTS (SELECT 1 FROM registered g WHERE g.household_id = m.household_id
                    AND g.fund = f.fund AND g.card_no = p.card_no)
), per_card AS (
  SELECT household_id, card_no, min(fund) AS fund FROM (
    SELECT household_id, card_no, fund FROM registered
    UNION ALL SELECT household_id, card_no, fund FROM memo_paid
  ) GROUP BY household_id, card_no
), flagged AS (
  SELECT * FROM per_card QUALIFY count(*) OVER (PARTITION BY household_id) > 1
), paid AS (
  SELECT household_id, card_no, sum(amount) AS amount, min(period) AS first_month,
         max(period) AS last_month, count(DISTINCT period) AS months
  FROM (
    SELECT g.household_id, p.card_no, p.amount, p.period
    FROM pay_fund p JOIN registered g USING (fund, card_no)
    UNION ALL SELECT household_id, card_no, amount, period FROM memo_paid
  ) WHERE card_no IN (SELECT card_no FROM flagged) GROUP BY household_id, card_no
), who AS (  -- whom the card is registered to in the household: a 户主 first, then the smallest ID
  SELECT household_id, card_no, min(id_number) AS id_number FROM (
    SELECT *, min(rk) OVER (PARTITION BY household_id, card_no) AS best FROM (
      SELECT r.household_id, r.card_no, r.id_number,
             CASE WHEN r.relation = '户主' THEN '0' ELSE '1' END || coalesce(r.id_number, '') AS rk
      FROM roll r JOIN flagged f USING (household_id, card_no)))
  WHERE rk = best GROUP BY household_id, card_no
)
SELECT 'C02' AS rule, f.household_id, coalesce(w.id_number, h.head_id) AS id_number, f.card_no,
       f.fund, NULL AS hub, p.first_month, p.last_month, coalesce(p.months, 0) AS months,
       coalesce(p.amount, 0) AS amount
FROM flagged f LEFT JOIN household h USING (household_id)
LEFT JOIN who w USING (household_id, card_no) LEFT JOIN paid p USING (household_id, card_no);

-- ------------------------------------------------------------------ C03 救助对象与持卡人不一致
-- roll entries (a person's fund; a household's 低保) whose card the bank says is held by someone
-- who is neither the beneficiary, nor the payee the roll registers, nor (for 低保) a member of
-- the household; IDs compared when both are usable, name keys otherwise

CREATE OR REPLACE TABLE f_c03 AS
WITH r AS (
  SELECT *, coalesce(fund IN (SELECT fund FROM spec_fund WHERE level = 'household'), false) AS hh_level
  FROM roll WHERE card_no IS NOT NULL AND fund IS NOT NULL
), e AS (
  SELECT *, CASE WHEN hh_level THEN 'H:' || coalesce(household_id, '')
                 ELSE 'P:' || coalesce(id_number, name_key, '') END AS entry
  FROM r
), allowed AS (
  SELECT entry, fund, card_no, id_number AS cand_id, usable(id_status) AS cand_ok, name_key AS cand_key
  FROM e WHERE NOT hh_level
  UNION ALL
  SELECT entry, fund, card_no, payee_id, id_like(payee_id), payee_name_key
  FROM e WHERE payee_id IS NOT NULL OR payee_name_key IS NOT NULL
  UNION ALL
  SELECT x.entry, x.fund, x.card_no, m.id_number, usable(m.id_status), m.name_key
  FROM (SELECT DISTINCT entry, fund, card_no, household_id FROM e WHERE hh_level) x
  JOIN roll m USING (household_id)
), acct AS (
  SELECT card_no, holder_id, holder_name_key, usable(holder_id_status) AS holder_ok FROM accounts
  WHERE holder_id IS NOT NULL OR holder_name_key IS NOT NULL
), judged AS (
  SELECT a.entry, a.fund, a.card_no FROM allowed a JOIN acct h USING (card_no)
  GROUP BY a.entry, a.fund, a.card_no
  HAVING NOT bool_or(same_person(h.holder_id, h.holder_ok, h.holder_name_key,
                                 a.cand_id, a.cand_ok, a.cand_key))
), entry AS (
  SELECT entry, fund, card_no, min(household_id) AS household_id, min(id_number) AS id_number,
         bool_or(hh_level) AS hh_level
  FROM e GROUP BY entry, fund, card_no
), money AS (
  SELECT card_no, fund, sum(amount) AS amount, min(period) AS first_month,
         max(period) AS last_month, count(DISTINCT period) AS months
  FROM pay_fund WHERE fund IS NOT NULL GROUP BY card_no, fund
)
SELECT 'C03' AS rule, x.household_id,
       CASE WHEN x.hh_level THEN h.head_id ELSE x.id_number END AS id_number, j.card_no, j.fund,
       'holder:' || CASE WHEN a.holder_ok THEN a.holder_id ELSE a.holder_name_key END AS hub,
       m.first_month, m.last_month, coalesce(m.months, 0) AS months, coalesce(m.amount, 0) AS amount
FROM judged j JOIN entry x USING (entry, fund, card_no) JOIN acct a USING (card_no)
LEFT JOIN household h ON h.household_id = x.household_id LEFT JOIN money m USING (card_no, fund);

-- ------------------------------------------------------------------ C04 代管代取
-- cards tied to one holder ID, agent ID, phone (bank's or roll's) or address with a house number
-- that touches min_households (3) or more households' cards

CREATE OR REPLACE TABLE f_c04 AS
WITH card_hh AS (
  SELECT DISTINCT card_no, household_id FROM roll
  WHERE card_no IS NOT NULL AND household_id IS NOT NULL
), v AS (
  SELECT 'holder' AS kind, CASE WHEN usable(holder_id_status) THEN holder_id END AS value, card_no
  FROM accounts
  UNION ALL SELECT 'agent', agent_id, card_no FROM accounts
  UNION ALL SELECT 'phone', phone_key(phone), card_no FROM accounts
  UNION ALL SELECT 'address', CASE WHEN regexp_matches(address, '\d') THEN address END, card_no
  FROM accounts
), edge AS (
  SELECT v.kind, v.value, v.card_no, c.household_id FROM v JOIN card_hh c USING (card_no)
  WHERE v.value IS NOT NULL
  UNION
  SELECT 'phone', phone_key(phone), card_no, household_id FROM roll
  WHERE card_no IS NOT NULL AND household_id IS NOT NULL AND phone_key(phone) IS NOT NULL
), hub AS (
  SELECT kind, value FROM edge GROUP BY kind, value HAVING count(DISTINCT household_id) >= 3
), hit AS (
  SELECT kind, value, card_no, min(household_id) AS household_id
  FROM edge JOIN hub USING (kind, value) GROUP BY kind, value, card_no
)
SELECT 'C04' AS rule, h.household_id, o.id_number, h.card_no, NULL AS fund,
       h.kind || ':' || h.value AS hub, m.first_month, m.last_month, coalesce(m.months, 0) AS months,
       coalesce(m.amount, 0) AS amount
FROM hit h LEFT JOIN card_owner o USING (card_no) LEFT JOIN card_paid m USING (card_no);

-- ------------------------------------------------------------------ C05 发放摘要不规范
-- payments whose memo is missing, generic, names no fund, names a fund the card does not carry,
-- names a fund but no period (one-off funds need none; 季度/上半年/下半年 count as periods), or a
-- month more than max_period_gap_months (3) from the pay month; one finding per (card, fund,
-- problem), fund = the fund paid, else the card's only fund

CREATE OR REPLACE TABLE f_c05 AS
WITH funds AS (
  SELECT card_no, min(n_funds) AS n_funds, min(fund) AS roll_fund FROM card_fund GROUP BY card_no
), x AS (
  SELECT p.card_no, p.amount, p.pay_month, p.memo, p.memo_fund, p.memo_funds, p.memo_generic,
         p.memo_period, f.n_funds, p.fund IS NOT NULL AS matched,
         coalesce(p.fund, CASE WHEN f.n_funds = 1 THEN f.roll_fund END) AS fund
  FROM pay_fund p LEFT JOIN funds f USING (card_no)
), flagged AS (
  SELECT card_no, fund, amount, pay_month, unnest([
    CASE WHEN memo IS NULL THEN 'missing' END,
    CASE WHEN memo IS NOT NULL AND memo_generic THEN 'generic' END,
    CASE WHEN memo IS NOT NULL AND NOT memo_generic AND memo_funds = 0 THEN 'no_fund' END,
    CASE WHEN memo_funds > 0 AND NOT matched AND n_funds IS NOT NULL THEN 'wrong_fund' END,
    CASE WHEN NOT memo_generic AND memo_funds > 0 AND memo_period IS NULL
              AND NOT regexp_matches(memo, '季度|上半年|下半年')
              AND NOT coalesce(memo_fund IN (SELECT fund FROM spec_fund WHERE one_off), false)
         THEN 'no_period' END,
    CASE WHEN memo_period IS NOT NULL AND abs(midx(memo_period) - midx(pay_month)) > 3
         THEN 'period' END
  ]) AS problem
  FROM x
)
SELECT 'C05' AS rule, o.household_id, o.id_number, f.card_no, f.fund, 'memo:' || f.problem AS hub,
       min(f.pay_month) AS first_month, max(f.pay_month) AS last_month,
       count(DISTINCT f.pay_month) AS months, sum(f.amount) AS amount
FROM flagged f LEFT JOIN card_owner o USING (card_no)
WHERE f.problem IS NOT NULL
GROUP BY o.household_id, o.id_number, f.card_no, f.fund, f.problem;

-- ------------------------------------------------------------------ C06 借他人名义办卡
-- subsidy cards (on the roll or paid) opened through an agent who is neither the holder, nor a
-- member of the holder's household or of a household the card is registered to, nor the payee
-- the roll registers for the card

CREATE OR REPLACE TABLE f_c06 AS
WITH subsidy_card AS (
  SELECT card_no FROM roll WHERE card_no IS NOT NULL
  UNION SELECT card_no FROM payments WHERE card_no IS NOT NULL
), ag AS (
  SELECT *, usable(holder_id_status) AS holder_ok, id_like(agent_id) AS agent_ok FROM accounts
  WHERE (agent_id IS NOT NULL OR agent_name_key IS NOT NULL)
    AND card_no IN (SELECT card_no FROM subsidy_card)
), hh AS (
  SELECT card_no, household_id FROM roll WHERE card_no IS NOT NULL AND household_id IS NOT NULL
  UNION
  SELECT a.card_no, r.household_id FROM ag a JOIN roll r ON r.id_number = a.holder_id
  WHERE a.holder_ok AND usable(r.id_status)
), cand AS (
  SELECT card_no, holder_id AS cand_id, holder_ok AS cand_ok, holder_name_key AS cand_key FROM ag
  UNION ALL
  SELECT h.card_no, m.id_number, usable(m.id_status), m.name_key FROM hh h JOIN roll m USING (household_id)
  UNION ALL
  SELECT card_no, payee_id, id_like(payee_id), payee_name_key FROM roll
  WHERE card_no IS NOT NULL AND (payee_id IS NOT NULL OR payee_name_key IS NOT NULL)
), tied AS (
  SELECT DISTINCT c.card_no FROM cand c JOIN ag a USING (card_no)
  WHERE same_person(a.agent_id, a.agent_ok, a.agent_name_key, c.cand_id, c.cand_ok, c.cand_key)
)
SELECT 'C06' AS rule, o.household_id, o.id_number, a.card_no, NULL AS fund,
       'agent:' || coalesce(a.agent_id, a.agent_name_key) AS hub, m.first_month, m.last_month,
       coalesce(m.months, 0) AS months, coalesce(m.amount, 0) AS amount
FROM ag a LEFT JOIN card_owner o USING (card_no) LEFT JOIN card_paid m USING (card_no)
WHERE a.card_no NOT IN (SELECT card_no FROM tied);

-- ------------------------------------------------------------------ C07 资金归集
-- cards that sent at least min_share (0.5) of their credits of the same months to one outside
-- account (no card of the roll, accounts, payments or transactions), when that account collects
-- so from min_households (3) or more households (a card not on the roll counts as its own)

CREATE OR REPLACE TABLE f_c07 AS
WITH ours AS (
  SELECT card_no FROM roll WHERE card_no IS NOT NULL
  UNION SELECT card_no FROM accounts WHERE card_no IS NOT NULL
  UNION SELECT card_no FROM card_month
), sent AS (
  SELECT card_no, counterparty_account AS account, txn_month, sum(amount) AS sent
  FROM transactions
  WHERE direction = 'D' AND counterparty_account IS NOT NULL
    AND counterparty_account NOT IN (SELECT card_no FROM ours)
  GROUP BY card_no, counterparty_account, txn_month
), pair AS (
  SELECT s.card_no, s.account, sum(s.sent) AS amount, sum(coalesce(m.credit, 0)) AS credit,
         min(s.txn_month) AS first_month, max(s.txn_month) AS last_month,
         count(DISTINCT s.txn_month) AS months
  FROM sent s LEFT JOIN card_month m ON m.card_no = s.card_no AND m.month = s.txn_month
  GROUP BY s.card_no, s.account
  HAVING sum(coalesce(m.credit, 0)) > 0 AND sum(s.sent) >= sum(coalesce(m.credit, 0)) * 0.5
), owned AS (
  SELECT p.*, o.household_id, o.id_number, coalesce(o.household_id, 'card:' || p.card_no) AS unit
  FROM pair p LEFT JOIN card_owner o USING (card_no)
)
SELECT 'C07' AS rule, household_id, id_number, card_no, NULL AS fund, 'account:' || account AS hub,
       first_month, last_month, months, amount
FROM owned
WHERE account IN (SELECT account FROM owned GROUP BY account HAVING count(DISTINCT unit) >= 3);

-- ------------------------------------------------------------------ C08 长期未动用
-- cards of the transactions file with min_idle_months (6) or more months, from a credited month
-- to a later credited one, without a debit in between

CREATE OR REPLACE TABLE f_c08 AS
WITH m AS (
  SELECT *, sum(debit) OVER (PARTITION BY card_no ORDER BY month ROWS UNBOUNDED PRECEDING) AS run
  FROM card_month
  WHERE card_no IN (SELECT card_no FROM card_month GROUP BY card_no HAVING sum(moves) > 0)
), runs AS (
  SELECT card_no, run, min(month) AS first_month, max(month) AS last_month, sum(credit) AS amount,
         midx(max(month)) - midx(min(month)) + 1 AS span
  FROM m WHERE debit = 0 AND credit > 0 GROUP BY card_no, run
), idle AS (
  SELECT card_no, min(first_month) AS first_month, max(last_month) AS last_month,
         sum(span) AS months, sum(amount) AS amount
  FROM runs WHERE span >= 6 GROUP BY card_no
)
SELECT 'C08' AS rule, o.household_id, o.id_number, i.card_no, NULL AS fund, NULL AS hub,
       i.first_month, i.last_month, i.months, i.amount
FROM idle i LEFT JOIN card_owner o USING (card_no);

-- ------------------------------------------------------------------ shared: roll entries
-- An entry is what is approved and paid: a household's 低保 (household, fund: approved at the sum
-- of its members' amounts), a person's fund (person, fund), or a person-level fund the roll
-- registers on one card for two or more people (card, fund: one unit, like a household).
-- A member is a usable ID, else household | name | ID as written.

CREATE OR REPLACE TABLE entry_row AS
WITH r AS (
  SELECT roll.*, coalesce(s.level = 'household', false) AS hh, s.family,
         CASE WHEN usable(id_status) THEN id_number
              ELSE '?' || coalesce(household_id, '') || '|' || coalesce(name_key, '') || '|'
                   || coalesce(id_number, '') END AS member
  FROM roll LEFT JOIN spec_fund s USING (fund) WHERE fund IS NOT NULL
), pooled AS (
  SELECT card_no, fund FROM r WHERE NOT hh AND card_no IS NOT NULL
  GROUP BY card_no, fund HAVING min(member) <> max(member)
), t AS (
  SELECT r.*, CASE WHEN r.hh THEN 'household' WHEN p.fund IS NOT NULL THEN 'card' ELSE 'person' END
                AS entry_type
  FROM r LEFT JOIN pooled p USING (card_no, fund)
)
SELECT *,
       entry_type || '|' || fund || '|' || CASE entry_type
         WHEN 'household' THEN coalesce(household_id, '~' || member)
         WHEN 'card' THEN card_no ELSE member END AS entry,
       CASE WHEN usable(id_status) THEN id_number END AS member_id,
       coalesce(ym(start_date), 0) AS start_month, coalesce(ym(end_date), 999912) AS end_month
FROM t;

-- one row per entry: its household, its person (the 户主's ID, else the smallest member's), its
-- card, and its months (open while any row is open)
CREATE OR REPLACE TABLE entry AS
SELECT entry, min(entry_type) AS entry_type, min(fund) AS fund, min(household_id) AS household_id,
       coalesce(min(member_id) FILTER (WHERE relation = '户主'), min(member_id)) AS id_number,
       min(card_no) AS card_no, min(start_month) AS start_month, max(end_month) AS end_month
FROM entry_row GROUP BY entry;

-- each payment's entry: the entries on its card whose fund its memo names (or whose family it
-- names, or any when it names none); exactly one: attributed; several: ambiguous; none:
-- fund_not_on_roll when the card is on the roll, else card_not_on_roll
CREATE OR REPLACE TABLE attribution AS
WITH k AS (
  SELECT DISTINCT card_no, coalesce(memo_fund, '') AS kf, coalesce(memo_family, '') AS kfam
  FROM payments
), on_card AS (
  SELECT k.*, c.entry, c.entry_type, c.fund, c.family
  FROM k JOIN (SELECT DISTINCT card_no, entry, entry_type, fund, family FROM entry_row
               WHERE card_no IS NOT NULL) c USING (card_no)
), cand AS (
  SELECT DISTINCT card_no, kf, kfam, entry, entry_type, fund FROM on_card
  WHERE CASE WHEN kf <> '' THEN fund = kf WHEN kfam <> '' THEN family = kfam ELSE true END
), stats AS (
  SELECT card_no, kf, kfam, count(*) AS n, min(fund) AS fund_min, max(fund) AS fund_max
  FROM cand GROUP BY card_no, kf, kfam
)
SELECT c.card_no, c.kf, c.kfam, c.entry, c.entry_type, c.fund, NULL AS reason
FROM cand c JOIN stats s USING (card_no, kf, kfam) WHERE s.n = 1
UNION ALL
SELECT card_no, kf, kfam, NULL, NULL, CASE WHEN fund_min = fund_max THEN fund_min END, 'ambiguous'
FROM stats WHERE n > 1
UNION ALL
SELECT card_no, kf, kfam, NULL, NULL, nullif(kf, ''),
       CASE WHEN card_no IN (SELECT card_no FROM on_card) THEN 'fund_not_on_roll'
            ELSE 'card_not_on_roll' END
FROM k WHERE NOT EXISTS (SELECT 1 FROM stats s WHERE s.card_no = k.card_no AND s.kf = k.kf
                         AND s.kfam = k.kfam);

CREATE OR REPLACE TABLE att AS
SELECT p.*, coalesce(p.memo_period, p.pay_month) AS period, a.entry, a.entry_type, a.fund, a.reason
FROM payments p JOIN attribution a
  ON a.card_no = p.card_no AND a.kf = coalesce(p.memo_fund, '') AND a.kfam = coalesce(p.memo_family, '');

-- the months the payment files cover: from the first to the last period paying at least
-- cover_min_share (0.5) of the busiest period's cards
CREATE OR REPLACE TABLE covered AS
WITH per AS (
  SELECT period, count(DISTINCT card_no) AS n FROM att
  WHERE card_no IS NOT NULL AND period IS NOT NULL GROUP BY period
), bounds AS (
  SELECT min(period) AS lo, max(period) AS hi FROM per WHERE n >= (SELECT max(n) FROM per) * 0.5
), seen AS (
  SELECT period FROM att WHERE card_no IS NOT NULL AND period IS NOT NULL
  UNION SELECT pay_month FROM att WHERE card_no IS NOT NULL AND period IS NOT NULL
)
SELECT period FROM seen, bounds WHERE period BETWEEN lo AND hi;

-- money per entry and period paid
CREATE OR REPLACE TABLE paid AS
SELECT entry, period, sum(amount) AS paid, count(*) AS n_payments, max(amount) AS largest,
       min(card_no) AS card_no, min(card_no) <> max(card_no) AS several_cards
FROM att WHERE reason IS NULL GROUP BY entry, period;

-- (entry, covered month) pairs with nothing paid for that period, neither attributed nor by a
-- payment that is ambiguous between the entries of its card (P02)
CREATE OR REPLACE TABLE unpaid AS
SELECT e.entry, c.period FROM entry e, covered c
WHERE e.fund NOT IN (SELECT fund FROM spec_fund WHERE one_off)
EXCEPT SELECT entry, period FROM paid
EXCEPT SELECT r.entry, a.period
       FROM (SELECT DISTINCT card_no, fund, period FROM att WHERE reason = 'ambiguous') a
       JOIN entry_row r ON r.card_no = a.card_no AND (a.fund IS NULL OR a.fund = r.fund);

-- the approved amount of an entry in a period: the sum over its members active then (start ≤
-- month ≤ end) of the member's amount (a member listed twice: the larger); null when no active
-- row carries an amount; active = some row of the entry is active
CREATE OR REPLACE TABLE approved AS
WITH pairs AS (SELECT entry, period FROM paid UNION SELECT entry, period FROM unpaid),
member AS (
  SELECT p.entry, p.period, r.member, max(r.monthly_amount) AS amount
  FROM pairs p JOIN entry_row r ON r.entry = p.entry
   AND r.start_month <= p.period AND r.end_month >= p.period
  GROUP BY p.entry, p.period, r.member
)
SELECT entry, period, CASE WHEN count(amount) > 0 THEN sum(amount) END AS approved
FROM member GROUP BY entry, period;

CREATE OR REPLACE TABLE per_period AS
SELECT p.*, a.approved FROM paid p LEFT JOIN approved a USING (entry, period);

-- what each person (usable ID) received per fund and period: a person entry's payments; for a
-- household's 低保 or a card unit, each member's share (the member's amount, or the payment if
-- smaller or the row has none) in the months the member's row is active, or every member when
-- the entry as a whole is not active then
CREATE OR REPLACE TABLE receipts AS
WITH member AS (
  SELECT entry, member_id, min(CASE WHEN entry_type = 'card' THEN 'person' ELSE entry_type END) AS entry_type,
         min(fund) AS fund, min(household_id) AS household_id, max(monthly_amount) AS share,
         min(start_month) AS start_month, max(end_month) AS end_month
  FROM entry_row WHERE entry_type IN ('household', 'card') AND member_id IS NOT NULL
  GROUP BY entry, member_id
)
SELECT e.id_number, e.household_id, 'person' AS entry_type, e.fund, p.period, p.card_no, p.paid
FROM entry e JOIN per_period p USING (entry)
WHERE e.entry_type = 'person' AND e.id_number IS NOT NULL
UNION ALL
SELECT m.member_id, m.household_id, m.entry_type, m.fund, p.period, p.card_no,
       CASE WHEN m.share IS NULL OR m.share > p.paid THEN p.paid ELSE m.share END
FROM member m JOIN entry e USING (entry) JOIN per_period p USING (entry)
WHERE (m.start_month <= p.period AND m.end_month >= p.period)
   OR p.period < e.start_month OR p.period > e.end_month;

-- ------------------------------------------------------------------ P01 无名册发放
-- payments onto a card the roll does not have, or for a fund the roll does not have on it; one
-- finding per card and fund (the memo's fund, else its family)

CREATE OR REPLACE TABLE f_p01 AS
WITH card_info AS (
  SELECT card_no, min(household_id) AS household_id,
         coalesce(min(member_id) FILTER (WHERE relation = '户主'), min(member_id)) AS id_number
  FROM entry_row WHERE card_no IS NOT NULL GROUP BY card_no
)
SELECT 'P01' AS rule, c.household_id, c.id_number, a.card_no, coalesce(a.fund, a.memo_family) AS fund,
       NULL AS hub, min(a.period) AS first_month, max(a.period) AS last_month,
       count(DISTINCT a.period) AS months, sum(a.amount) AS amount
FROM att a LEFT JOIN card_info c USING (card_no)
WHERE a.reason IN ('card_not_on_roll', 'fund_not_on_roll')
GROUP BY c.household_id, c.id_number, a.card_no, coalesce(a.fund, a.memo_family), a.reason;

-- ------------------------------------------------------------------ P02 应发未发
-- entries (not one-off funds) active in a covered month with nothing paid for it; money = the
-- approved amounts of those months

CREATE OR REPLACE TABLE f_p02 AS
SELECT 'P02' AS rule, e.household_id, e.id_number, e.card_no, e.fund, NULL AS hub,
       min(u.period) AS first_month, max(u.period) AS last_month, count(DISTINCT u.period) AS months,
       coalesce(sum(a.approved), 0) AS amount
FROM unpaid u JOIN approved a USING (entry, period) JOIN entry e USING (entry)
GROUP BY e.entry, e.household_id, e.id_number, e.card_no, e.fund;

-- ------------------------------------------------------------------ P03 金额不符
-- (entry, period) paid other than approved by more than tolerance_fen (0), either way; an
-- over-payment of two or more payments is P04's; one-off funds are left out

CREATE OR REPLACE TABLE f_p03 AS
SELECT 'P03' AS rule, e.household_id, e.id_number, e.card_no, e.fund, NULL AS hub,
       min(p.period) AS first_month, max(p.period) AS last_month, count(DISTINCT p.period) AS months,
       sum(abs(p.paid - p.approved)) AS amount
FROM per_period p JOIN entry e USING (entry)
WHERE p.approved IS NOT NULL AND abs(p.paid - p.approved) > 0
  AND NOT (p.n_payments >= 2 AND p.paid - p.approved > 0)
  AND e.fund NOT IN (SELECT fund FROM spec_fund WHERE one_off)
GROUP BY e.entry, e.household_id, e.id_number, e.card_no, e.fund;

-- ------------------------------------------------------------------ P04 重复发放
-- (entry, period) with two or more payments adding up to more than approved (tolerance 0;
-- without an approved amount, the largest payment stands for it)

CREATE OR REPLACE TABLE f_p04 AS
SELECT 'P04' AS rule, e.household_id, e.id_number, e.card_no, e.fund, NULL AS hub,
       min(p.period) AS first_month, max(p.period) AS last_month, count(DISTINCT p.period) AS months,
       sum(p.paid - coalesce(p.approved, p.largest)) AS amount
FROM per_period p JOIN entry e USING (entry)
WHERE p.n_payments >= 2 AND p.paid - coalesce(p.approved, p.largest) > 0
GROUP BY e.entry, e.household_id, e.id_number, e.card_no, e.fund;

-- ------------------------------------------------------------------ P05 发放不及时
-- attributed payments made after their fund's deadline day (funds.yaml: 15, 临时救助 31; capped
-- at the month's last day) of the month they are for

CREATE OR REPLACE TABLE f_p05 AS
WITH late AS (
  SELECT a.entry, a.period, a.amount,
         date_diff('day', make_date(a.period // 100, a.period % 100, 1)
                          + CAST(least(coalesce(s.deadline_day, 15),
                                       day(last_day(make_date(a.period // 100, a.period % 100, 1)))) - 1
                                 AS INTEGER),
                   a.pay_date) AS days_late
  FROM att a LEFT JOIN spec_fund s USING (fund)
  WHERE a.reason IS NULL AND a.period IS NOT NULL AND a.pay_date IS NOT NULL
)
SELECT 'P05' AS rule, e.household_id, e.id_number, e.card_no, e.fund, NULL AS hub,
       min(l.period) AS first_month, max(l.period) AS last_month, count(DISTINCT l.period) AS months,
       sum(l.amount) AS amount
FROM late l JOIN entry e USING (entry) WHERE l.days_late > 0
GROUP BY e.entry, e.household_id, e.id_number, e.card_no, e.fund;

-- ------------------------------------------------------------------ P06 停保后仍发放
-- attributed payments for periods after the entry's end (the last row's end; open if any row is)

CREATE OR REPLACE TABLE f_p06 AS
SELECT 'P06' AS rule, e.household_id, e.id_number, e.card_no, e.fund, NULL AS hub,
       min(a.period) AS first_month, max(a.period) AS last_month, count(DISTINCT a.period) AS months,
       sum(a.amount) AS amount
FROM att a JOIN entry e USING (entry)
WHERE a.reason IS NULL AND e.end_month <> 999912 AND a.period > e.end_month
GROUP BY e.entry, e.household_id, e.id_number, e.card_no, e.fund;

-- ------------------------------------------------------------------ E01–E05 reference lists
-- beneficiaries on a list (references.yaml) who received an excluded fund for a period inside
-- the list entry's window (from the `from` month + offset to the `to` month, open when empty).
-- Whom an entry touches, per fund (match): 0 the person; 1 also the other of the 户主/配偶 pair
-- of their household; 2 anyone of their household. A household's 低保 touched through a member
-- is the household's finding (the entry's ID, all it was paid), a person's fund the person's.

CREATE OR REPLACE TABLE spec_list AS SELECT * FROM (VALUES
  ('E01', 'deaths', 1), ('E02', 'prisoners', 0), ('E03', 'payroll', 0), ('E04', 'business', 0),
  ('E05', 'pensions', 0)
) t(rule, kind, from_offset);

CREATE OR REPLACE TABLE spec_list_fund AS
SELECT 'E01' AS rule, fund, 0 AS mode FROM spec_fund
UNION ALL SELECT 'E02', fund, 0 FROM spec_fund WHERE fund IN ('城市低保', '农村低保', '特困供养',
                                                              '困难残疾人生活补贴', '重度残疾人护理补贴')
UNION ALL SELECT rule, fund, mode FROM (VALUES ('城市低保', 2), ('农村低保', 2), ('特困供养', 2),
                                              ('困难残疾人生活补贴', 1)) f(fund, mode),
                                      (VALUES ('E03'), ('E04')) r(rule)
UNION ALL SELECT 'E05', fund, 0 FROM spec_fund WHERE fund IN ('城市低保', '农村低保');

CREATE OR REPLACE TABLE listed AS
SELECT s.rule, l.id_number AS listed_id,
       coalesce(add_months(ym(l.start_date), s.from_offset), 0) AS win_from,
       coalesce(ym(l.end_date), 999912) AS win_to
FROM ref_list l JOIN spec_list s ON s.rule = l.list WHERE usable(l.id_status);

-- whom each listed person touches: themselves (rank 0), and for lists matching beyond the person
-- every other member of a household they are in (rank 1 for the 户主/配偶 pair, else 2)
CREATE OR REPLACE TABLE list_link AS
WITH fam AS (
  SELECT DISTINCT household_id, member_id,
         CASE WHEN trim(relation) IN ('户主', '本人') THEN 'head'
              WHEN trim(relation) IN ('配偶', '妻', '妻子', '夫', '丈夫', '之妻', '之夫', '爱人') THEN 'spouse'
              ELSE '' END AS couple
  FROM entry_row WHERE member_id IS NOT NULL AND household_id IS NOT NULL
), wide AS (SELECT DISTINCT rule FROM spec_list_fund WHERE mode > 0)
SELECT DISTINCT rule, listed_id AS id_number, listed_id, NULL AS link_hh, 0 AS rank FROM listed
UNION ALL
SELECT DISTINCT l.rule, k.member_id, l.listed_id, k.household_id,
       CASE WHEN (k.couple = 'head' AND t.couple = 'spouse') OR (k.couple = 'spouse' AND t.couple = 'head')
            THEN 1 ELSE 2 END
FROM (SELECT DISTINCT rule, listed_id FROM listed WHERE rule IN (SELECT rule FROM wide)) l
JOIN fam t ON t.member_id = l.listed_id
JOIN fam k ON k.household_id = t.household_id AND k.member_id <> l.listed_id;

CREATE OR REPLACE TABLE f_e01_e05 AS
WITH own AS (
  SELECT k.rule, r.id_number, r.household_id, r.fund, r.period, r.card_no, r.paid, k.listed_id
  FROM receipts r JOIN spec_list_fund f ON f.fund = r.fund
  JOIN list_link k ON k.rule = f.rule AND k.id_number = r.id_number
  WHERE (r.entry_type <> 'household' OR f.mode = 0) AND k.rank <= f.mode
    AND (k.link_hh IS NULL OR k.link_hh = r.household_id)
), whole AS (
  SELECT k.rule, e.id_number, e.household_id, e.fund, p.period, p.card_no, p.paid, k.listed_id
  FROM entry e JOIN spec_fund s ON s.fund = e.fund AND s.level = 'household'
  JOIN spec_list_fund f ON f.fund = e.fund AND f.mode = 2
  JOIN list_link k ON k.rule = f.rule AND k.id_number = e.id_number
  JOIN per_period p ON p.entry = e.entry
  WHERE e.entry_type = 'household' AND (k.link_hh IS NULL OR k.link_hh = e.household_id)
), inside AS (
  SELECT t.* FROM (SELECT * FROM own UNION ALL SELECT * FROM whole) t
  JOIN listed w ON w.rule = t.rule AND w.listed_id = t.listed_id
  WHERE t.period BETWEEN w.win_from AND w.win_to
), months AS (  -- a month inside two windows counts once
  SELECT rule, id_number, fund, period, min(household_id) AS household_id, min(card_no) AS card_no,
         max(paid) AS paid
  FROM inside GROUP BY rule, id_number, fund, period
)
SELECT rule, min(household_id) AS household_id, id_number, min(card_no) AS card_no, fund,
       NULL AS hub, min(period) AS first_month, max(period) AS last_month,
       count(DISTINCT period) AS months, sum(paid) AS amount
FROM months GROUP BY rule, id_number, fund;

-- ------------------------------------------------------------------ E06 重复享受
-- a person receiving both funds of an exclusive pair in one month; fund = "A+B", money = the
-- smaller of the two in each such month

CREATE OR REPLACE TABLE f_e06 AS
WITH held AS (SELECT DISTINCT member_id AS id_number, fund FROM entry_row WHERE member_id IS NOT NULL
), two AS (  -- only people the roll lists under both funds of a pair can receive both
  SELECT DISTINCT a.id_number FROM held a JOIN held b USING (id_number)
  JOIN spec_pair s ON s.fund_a = a.fund AND s.fund_b = b.fund
), got AS (
  SELECT id_number, fund, period, min(household_id) AS household_id, min(card_no) AS card_no,
         sum(paid) AS paid
  FROM receipts WHERE id_number IN (SELECT id_number FROM two) GROUP BY id_number, fund, period
)
SELECT 'E06' AS rule, min(a.household_id) AS household_id, a.id_number, min(a.card_no) AS card_no,
       a.fund || '+' || b.fund AS fund, NULL AS hub, min(a.period) AS first_month,
       max(a.period) AS last_month, count(DISTINCT a.period) AS months,
       sum(least(a.paid, b.paid)) AS amount
FROM got a JOIN got b USING (id_number, period) JOIN spec_pair s ON s.fund_a = a.fund AND s.fund_b = b.fund
GROUP BY a.id_number, a.fund, b.fund;

-- ------------------------------------------------------------------ E07 跨区域重复
-- a person on this roll and another region's roll in overlapping months (any funds); money =
-- what they received here in the overlap

CREATE OR REPLACE TABLE f_e07 AS
WITH here AS (
  SELECT id_number, household_id, card_no, fund, coalesce(ym(start_date), 0) AS s,
         coalesce(ym(end_date), 999912) AS e
  FROM roll WHERE usable(id_status) AND fund IS NOT NULL
), there AS (
  SELECT id_number, source_region, coalesce(ym(start_date), 0) AS s, coalesce(ym(end_date), 999912) AS e
  FROM other_roll WHERE usable(id_status) AND fund IS NOT NULL
), both_ AS (
  SELECT h.id_number, h.fund, t.source_region, min(h.household_id) AS household_id,
         min(h.card_no) AS card_no, min(greatest(h.s, t.s)) AS lo, max(least(h.e, t.e)) AS hi
  FROM here h JOIN there t USING (id_number) WHERE greatest(h.s, t.s) <= least(h.e, t.e)
  GROUP BY h.id_number, h.fund, t.source_region
), got AS (
  SELECT b.id_number, b.fund, b.source_region, sum(r.paid) AS amount, min(r.period) AS p_first,
         max(r.period) AS p_last, count(DISTINCT r.period) AS months
  FROM both_ b JOIN receipts r ON r.id_number = b.id_number AND r.fund = b.fund
   AND r.period BETWEEN b.lo AND b.hi
  GROUP BY b.id_number, b.fund, b.source_region
)
SELECT 'E07' AS rule, b.household_id, b.id_number, b.card_no, b.fund,
       'region:' || coalesce(b.source_region, '') AS hub,
       coalesce(g.p_first, CASE WHEN b.lo <> 0 THEN b.lo END) AS first_month,
       coalesce(g.p_last, CASE WHEN b.hi <> 999912 THEN b.hi END) AS last_month,
       coalesce(g.months, 0) AS months, coalesce(g.amount, 0) AS amount
FROM both_ b LEFT JOIN got g USING (id_number, fund, source_region);

-- ------------------------------------------------------------------ E08 优亲厚友
-- beneficiaries who are an official, in an official's household (officials.户编号, or the
-- household his ID is in on the roll), or his relative on the relatives file, unless that file
-- has a filing (是否备案 = 是) for the pair; one finding per beneficiary, fund and official

CREATE OR REPLACE TABLE f_e08 AS
WITH r AS (SELECT * FROM roll WHERE fund IS NOT NULL),
off AS (SELECT id_number AS official_id, household_id AS off_household FROM officials WHERE usable(id_status)),
link AS (
  SELECT r.household_id, r.id_number, r.fund, r.card_no, o.official_id
  FROM r JOIN off o ON o.official_id = r.id_number WHERE usable(r.id_status)
  UNION ALL
  SELECT r.household_id, r.id_number, r.fund, r.card_no, o.official_id
  FROM r JOIN off o ON o.off_household = r.household_id
  WHERE r.id_number IS DISTINCT FROM o.official_id
  UNION ALL
  SELECT r.household_id, r.id_number, r.fund, r.card_no, h.official_id
  FROM r JOIN (SELECT DISTINCT x.household_id, o.official_id FROM r x JOIN off o ON o.official_id = x.id_number
               WHERE usable(x.id_status)) h USING (household_id)
  WHERE r.id_number IS DISTINCT FROM h.official_id
  UNION ALL
  SELECT r.household_id, r.id_number, r.fund, r.card_no, k.official_id
  FROM r JOIN relatives k ON k.relative_id = r.id_number
  WHERE usable(r.id_status) AND k.official_id IS NOT NULL
), linked AS (
  SELECT household_id, id_number, fund, official_id, min(card_no) AS card_no
  FROM link GROUP BY household_id, id_number, fund, official_id
), filing AS (
  SELECT official_id, relative_id AS id_number, max(filed) AS filed FROM relatives
  GROUP BY official_id, relative_id
), got AS (
  SELECT id_number, fund, sum(paid) AS amount, min(period) AS first_month, max(period) AS last_month,
         count(DISTINCT period) AS months
  FROM receipts GROUP BY id_number, fund
)
SELECT 'E08' AS rule, l.household_id, l.id_number, l.card_no, l.fund, 'official:' || l.official_id AS hub,
       g.first_month, g.last_month, coalesce(g.months, 0) AS months, coalesce(g.amount, 0) AS amount
FROM linked l LEFT JOIN filing f USING (official_id, id_number) LEFT JOIN got g USING (id_number, fund)
WHERE f.filed IS DISTINCT FROM 1;

-- ------------------------------------------------------------------ E09 身份信息错误
-- IDs on the roll and in the accounts that fail GB 11643 (check digit, birth date, shape, digits
-- Excel lost), usable IDs of no province, roll rows without an ID, and one usable ID under two
-- names on the roll, or on the roll and in the accounts; money is not counted

CREATE OR REPLACE TABLE f_e09 AS
WITH ids AS (
  SELECT id_number, id_status AS problem, household_id, fund, card_no FROM roll
  UNION ALL
  SELECT holder_id, holder_id_status, NULL, NULL, card_no FROM accounts WHERE holder_id IS NOT NULL
), bad AS (
  SELECT * FROM ids WHERE problem IN ('precision_lost', 'bad_checksum', 'bad_birth_date', 'bad_format')
  UNION ALL
  SELECT id_number, 'bad_region', household_id, fund, card_no FROM ids
  WHERE problem IN ('ok', 'upgraded15', 'bad_checksum', 'bad_birth_date')
    AND CAST(substr(id_number, 1, 2) AS INT) NOT IN (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
        35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)
), ok AS (
  SELECT * FROM roll WHERE id_status IN ('ok', 'upgraded15') AND name_key IS NOT NULL
), person AS (
  SELECT id_number, min(household_id) AS household_id, min(fund) AS fund, min(card_no) AS card_no,
         count(DISTINCT name_key) AS n_names
  FROM ok GROUP BY id_number
), bank AS (
  SELECT a.holder_id AS id_number, min(a.card_no) AS odd_card FROM accounts a
  WHERE a.holder_id_status IN ('ok', 'upgraded15') AND a.holder_name_key IS NOT NULL
    AND a.holder_id IN (SELECT id_number FROM person)
    AND NOT EXISTS (SELECT 1 FROM ok WHERE ok.id_number = a.holder_id AND ok.name_key = a.holder_name_key)
  GROUP BY a.holder_id
)
SELECT 'E09' AS rule, min(household_id) AS household_id, id_number, min(card_no) AS card_no,
       min(fund) AS fund, problem AS hub
FROM bad GROUP BY id_number, problem
UNION ALL
SELECT 'E09', household_id, min(id_number), min(card_no), min(fund), 'missing'
FROM roll WHERE id_status = 'missing' GROUP BY household_id, name_key
UNION ALL
SELECT 'E09', household_id, id_number, card_no, fund, 'name_conflict_roll' FROM person WHERE n_names > 1
UNION ALL
SELECT 'E09', p.household_id, b.id_number, coalesce(b.odd_card, p.card_no), p.fund, 'name_mismatch_bank'
FROM bank b JOIN person p USING (id_number);

-- ------------------------------------------------------------------ the findings

CREATE OR REPLACE TABLE findings AS
SELECT rule, household_id, id_number, card_no, fund, hub, CAST(first_month AS INTEGER) AS first_month,
       CAST(last_month AS INTEGER) AS last_month, CAST(months AS INTEGER) AS months,
       CAST(amount AS BIGINT) AS amount
FROM (
  SELECT * FROM f_c01 UNION ALL BY NAME SELECT * FROM f_c02 UNION ALL BY NAME SELECT * FROM f_c03
  UNION ALL BY NAME SELECT * FROM f_c04 UNION ALL BY NAME SELECT * FROM f_c05
  UNION ALL BY NAME SELECT * FROM f_c06 UNION ALL BY NAME SELECT * FROM f_c07
  UNION ALL BY NAME SELECT * FROM f_c08 UNION ALL BY NAME SELECT * FROM f_p01
  UNION ALL BY NAME SELECT * FROM f_p02 UNION ALL BY NAME SELECT * FROM f_p03
  UNION ALL BY NAME SELECT * FROM f_p04 UNION ALL BY NAME SELECT * FROM f_p05
  UNION ALL BY NAME SELECT * FROM f_p06 UNION ALL BY NAME SELECT * FROM f_e01_e05
  UNION ALL BY NAME SELECT * FROM f_e06 UNION ALL BY NAME SELECT * FROM f_e07
  UNION ALL BY NAME SELECT * FROM f_e08
  UNION ALL BY NAME SELECT *, NULL AS first_month, NULL AS last_month, NULL AS months, 0 AS amount
  FROM f_e09
);

COPY (SELECT * FROM findings ORDER BY ALL) TO '{out}' (HEADER, DELIMITER ',');
