DROP TABLE status_updates;
DROP TABLE goals;
DROP TABLE areas;
DROP TABLE plans;
