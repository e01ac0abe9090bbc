-- bad.sql - the SQLite failing path of test_real: statements that work,
-- then a syntax error on line 6 (the driver stops there and exits 1).
CREATE TABLE t(a INTEGER, b TEXT);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
SELECT * FROM t ORDER BY a;
SELEC a FROM t;
SELECT 'not reached';
