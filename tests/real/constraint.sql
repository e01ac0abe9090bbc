-- constraint.sql - a statement that fails when it runs, not when it is
-- parsed: a UNIQUE constraint.
CREATE TABLE t(k TEXT PRIMARY KEY, v REAL);
INSERT INTO t VALUES ('a', 1.5), ('b', 2.5);
SELECT sum(v) FROM t;
INSERT INTO t VALUES ('c', 3.5), ('a', 4.5);
SELECT 'not reached';
