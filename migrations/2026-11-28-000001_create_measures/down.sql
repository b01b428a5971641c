DROP TABLE measurements;
DROP TABLE measures;
