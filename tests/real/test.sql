-- test.sql - the SQLite workload of test_real: tables, inserts (one by one
-- and generated), indexes, joins, aggregates, window functions, strings,
-- floats, JSON, a transaction rolled back, triggers and a view.
CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
INSERT INTO dept(name) VALUES ('engine'), ('scheduler'), ('wasi'), ('docs');
CREATE TABLE emp(id INTEGER PRIMARY KEY, name TEXT, dept INTEGER REFERENCES dept(id),
                 salary REAL, hired TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO emp(name, dept, salary, hired)
  SELECT 'emp' || printf('%04d', i), 1 + i % 4, 1000.0 + (i * 7919 % 5000) / 3.0,
         date('2020-01-01', '+' || (i * 37 % 1500) || ' days')
  FROM n;
CREATE INDEX emp_dept ON emp(dept, salary);
CREATE INDEX emp_hired ON emp(hired);
SELECT count(*), min(salary), max(salary), round(avg(salary), 6), total(salary) FROM emp;
SELECT d.name, count(*), round(sum(e.salary), 2), printf('%.3e', avg(e.salary))
  FROM emp e JOIN dept d ON d.id = e.dept GROUP BY d.name ORDER BY d.name;
SELECT name, salary FROM emp WHERE dept = 3 AND salary > 2600 ORDER BY salary DESC, name LIMIT 5;
SELECT strftime('%Y', hired) AS y, count(*) FROM emp GROUP BY y ORDER BY y;
SELECT name, dept, salary, rank() OVER (PARTITION BY dept ORDER BY salary DESC) AS r
  FROM emp WHERE id % 97 = 0 ORDER BY dept, r, name;
SELECT upper(name), length(name), substr(name, 2, 3), replace(name, 'emp', 'E'), hex(name)
  FROM emp WHERE id IN (1, 500, 2000);
SELECT 1.0 / 3, 2.0 / 3, 1e308 * 10, -0.0, 0.1 + 0.2, 123456789.125, 1e-7, 5e-324, 2.5e15;
SELECT printf('%.17g|%.6f|%g|%10.4f|%-8s|%05d', 0.1, 3.14159265358979, 1e20, -2.5, 'ab', 42);
SELECT json_object('dept', name, 'n', (SELECT count(*) FROM emp WHERE dept = dept.id)) FROM dept ORDER BY id;
SELECT json_extract('{"a":[1,2,{"b":3.5}]}', '$.a[2].b'), json_array_length('[1,2,3,4]');
BEGIN;
DELETE FROM emp WHERE dept = 2;
SELECT count(*) FROM emp;
ROLLBACK;
SELECT count(*) FROM emp;
CREATE TABLE log(msg TEXT);
CREATE TRIGGER emp_raise AFTER UPDATE OF salary ON emp
  BEGIN INSERT INTO log VALUES (old.name || ': ' || old.salary || ' -> ' || new.salary); END;
UPDATE emp SET salary = salary * 1.1 WHERE id % 500 = 0;
SELECT * FROM log ORDER BY msg;
CREATE VIEW top AS SELECT dept, max(salary) AS best FROM emp GROUP BY dept;
SELECT d.name, t.best FROM top t JOIN dept d ON d.id = t.dept ORDER BY t.best DESC;
SELECT group_concat(name, ',') FROM (SELECT name FROM emp ORDER BY salary LIMIT 6);
EXPLAIN QUERY PLAN SELECT * FROM emp WHERE dept = 2 AND salary > 1500;
SELECT typeof(1), typeof(1.5), typeof('x'), typeof(x'00'), typeof(NULL), quote(x'0aff'), zeroblob(3) IS NOT NULL;
