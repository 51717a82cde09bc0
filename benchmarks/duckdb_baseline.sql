-- The baseline to beat: the core rules (C01–C05, P01, P03, P04, E01) in plain DuckDB SQL over
-- the clean demo CSVs (`cardcheck demo --clean`), every column read as text, as a hand-written
-- SQL check would. {dir} is replaced by the folder. Each statement yields one rule's findings.

CREATE OR REPLACE VIEW roll AS
SELECT 户编号 AS household_id, 姓名 AS name, upper(身份证号码) AS id_number, 救助类别 AS fund,
       CAST(round(CAST(月保障金额 AS DECIMAL(18, 2)) * 100) AS BIGINT) AS monthly_amount,
       CAST(保障起始日期 AS DATE) AS start_date, CAST(终止日期 AS DATE) AS end_date,
       银行卡号 AS card_no, 持卡人姓名 AS payee_name, 持卡人身份证号 AS payee_id, 联系电话 AS phone
FROM read_csv('{dir}/救助对象名册.csv', all_varchar = true);

CREATE OR REPLACE VIEW accounts AS
SELECT 卡号 AS card_no, 户名 AS holder_name, upper(证件号码) AS holder_id, 预留手机号 AS phone,
       联系地址 AS address, 代办人证件号 AS agent_id
FROM read_csv('{dir}/账户信息.csv', all_varchar = true);

CREATE OR REPLACE VIEW payments AS
SELECT CAST(交易日期 AS DATE) AS pay_date, 账号 AS card_no, 户名 AS account_name,
       CAST(round(CAST(金额 AS DECIMAL(18, 2)) * 100) AS BIGINT) AS amount, 摘要 AS memo,
       CAST(strftime(CAST(交易日期 AS DATE), '%Y%m') AS INTEGER) AS pay_month
FROM read_csv('{dir}/代发明细.csv', all_varchar = true);

CREATE OR REPLACE VIEW deaths AS
SELECT upper(身份证号码) AS id_number, CAST(死亡日期 AS DATE) AS death_date
FROM read_csv('{dir}/死亡人员名单.csv', all_varchar = true);

CREATE OR REPLACE TABLE p AS
SELECT p.*, (SELECT min(fund) FROM roll r WHERE r.card_no = p.card_no) AS fund
FROM payments p;

-- C01 一人多卡
SELECT id_number, count(DISTINCT card_no) AS cards
FROM roll WHERE card_no IS NOT NULL GROUP BY id_number HAVING count(DISTINCT card_no) > 1;

-- C02 一户多卡 (household funds)
SELECT household_id, count(DISTINCT card_no) AS cards
FROM roll WHERE fund IN ('城市低保', '农村低保') AND card_no IS NOT NULL
GROUP BY household_id HAVING count(DISTINCT card_no) > 1;

-- C03 持卡人不一致
SELECT DISTINCT r.id_number, r.card_no
FROM roll r JOIN accounts a USING (card_no)
WHERE a.holder_id IS DISTINCT FROM r.id_number
  AND a.holder_id IS DISTINCT FROM r.payee_id
  AND NOT EXISTS (SELECT 1 FROM roll m WHERE m.household_id = r.household_id
                  AND m.id_number = a.holder_id AND r.fund IN ('城市低保', '农村低保'));

-- C04 代管代取: a phone, address or agent on the cards of 3+ households
WITH hubs AS (
  SELECT 'phone' AS kind, a.phone AS hub, r.household_id, a.card_no
  FROM accounts a JOIN roll r USING (card_no) WHERE a.phone IS NOT NULL
  UNION ALL
  SELECT 'address', a.address, r.household_id, a.card_no
  FROM accounts a JOIN roll r USING (card_no) WHERE a.address IS NOT NULL
  UNION ALL
  SELECT 'agent', a.agent_id, r.household_id, a.card_no
  FROM accounts a JOIN roll r USING (card_no) WHERE a.agent_id IS NOT NULL
)
SELECT kind, hub, count(DISTINCT household_id) AS households, list(DISTINCT card_no) AS cards
FROM hubs GROUP BY kind, hub HAVING count(DISTINCT household_id) >= 3;

-- C05 发放摘要不规范
SELECT card_no, memo, count(*) AS n, sum(amount) AS amount
FROM p
WHERE memo IS NULL OR memo IN ('代发', '批量代发', '工资', '转账', '补助', '其他')
   OR NOT regexp_matches(memo, '低保|特困|供养|临时救助|临救|孤儿|残疾|残补|护理|五保')
   OR (fund IS NOT NULL AND NOT contains(memo, replace(replace(fund, '农村', '农'), '城市', '城'))
       AND NOT contains(memo, fund) AND NOT contains(memo, '低保'))
GROUP BY card_no, memo;

-- P01 无名册发放
SELECT card_no, sum(amount) AS amount FROM p WHERE fund IS NULL GROUP BY card_no;

-- P03 金额不符
WITH approved AS (
  SELECT card_no, fund, sum(monthly_amount) AS approved FROM roll GROUP BY card_no, fund
), paid AS (
  SELECT card_no, fund, pay_month, sum(amount) AS paid FROM p WHERE fund IS NOT NULL
  GROUP BY card_no, fund, pay_month
)
SELECT paid.*, approved.approved, paid.paid - approved.approved AS diff
FROM paid JOIN approved USING (card_no, fund) WHERE paid.paid <> approved.approved;

-- P04 重复发放
SELECT card_no, fund, pay_month, count(*) AS n, sum(amount) AS amount
FROM p WHERE fund IS NOT NULL GROUP BY card_no, fund, pay_month HAVING count(*) > 1;

-- E01 死亡人员领取
SELECT r.id_number, sum(p.amount) AS amount
FROM deaths d JOIN roll r USING (id_number) JOIN p ON p.card_no = r.card_no
WHERE p.pay_month > CAST(strftime(d.death_date, '%Y%m') AS INTEGER)
GROUP BY r.id_number;
