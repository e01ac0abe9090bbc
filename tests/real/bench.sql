-- bench.sql - the SQLite workload of bench-real: 100,000 generated rows,
-- two indexes, then aggregate, join, sort and window queries over them.
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL, qty INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO item(grp, name, price, qty)
  SELECT i % 500, 'item' || (i * 7919 % 100000), (i * 104729 % 100000) / 100.0, i % 37 FROM n;
CREATE INDEX item_grp ON item(grp, price);
CREATE INDEX item_name ON item(name);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499)
INSERT INTO grp SELECT i, 'group-' || i FROM n;
SELECT count(*), round(sum(price * qty), 2), round(avg(price), 4) FROM item;
SELECT g.label, count(*), round(sum(i.price), 2) FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.label ORDER BY sum(i.price) DESC LIMIT 5;
SELECT count(*) FROM item a JOIN item b ON b.name = a.name WHERE a.id % 10 = 0;
SELECT name, price FROM item ORDER BY price DESC, name LIMIT 5;
SELECT grp, max(r) FROM (SELECT grp, rank() OVER (PARTITION BY grp ORDER BY price) AS r FROM item)
  GROUP BY grp ORDER BY grp LIMIT 3;
UPDATE item SET price = price * 1.05 WHERE qty > 30;
DELETE FROM item WHERE id % 3 = 0;
SELECT count(*), round(sum(price), 2) FROM item;
SELECT length(group_concat(name, ',')) FROM item WHERE grp = 7;
