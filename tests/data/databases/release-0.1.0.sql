BEGIN TRANSACTION;
CREATE TABLE chunks (
	stream_id INTEGER NOT NULL, 
	"offset" BIGINT NOT NULL, 
	length BIGINT NOT NULL, 
	data BLOB NOT NULL, 
	PRIMARY KEY (stream_id, "offset"), 
	FOREIGN KEY(stream_id) REFERENCES streams (id) ON DELETE CASCADE
)
 WITHOUT ROWID

;
INSERT INTO "chunks" VALUES(1,0,26,X'28B52FFD201AD1000047414E5F6C6F73733D302E353B204C6F7373203D20322E353B0A');
INSERT INTO "chunks" VALUES(1,26,25,X'28B52FFD2019C900004C6F7373203D20312E353B0A4C6F7373203D206F6F70733B0A');
INSERT INTO "chunks" VALUES(2,0,22,X'28B52FFD2016B100004C6F7373203D20302E37353B0A4C6F7373203D20302E');
CREATE TABLE jobs (
	id INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	objective_metric VARCHAR(255) NOT NULL, 
	objective_type VARCHAR(16) NOT NULL, 
	objective_strategy VARCHAR(16) NOT NULL, 
	log_format VARCHAR(16) NOT NULL, 
	metric_definitions JSON NOT NULL, 
	environment JSON NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "jobs" VALUES(1,'gan','loss','Minimize','latest','text','[["loss", "Loss = (.*?);"], ["ganloss", "GAN_loss=(.*?);"]]','{"SM_LOG_LEVEL": "20"}',1.79624300114637899393e+09);
CREATE TABLE points (
	run_metric_id INTEGER NOT NULL, 
	seq BIGINT NOT NULL, 
	step BIGINT NOT NULL, 
	value FLOAT NOT NULL, 
	timestamp FLOAT NOT NULL, 
	stream_id INTEGER NOT NULL, 
	line BIGINT NOT NULL, 
	"offset" BIGINT NOT NULL, 
	PRIMARY KEY (run_metric_id, seq), 
	FOREIGN KEY(run_metric_id) REFERENCES run_metrics (id) ON DELETE CASCADE, 
	FOREIGN KEY(stream_id) REFERENCES streams (id) ON DELETE CASCADE
)
 WITHOUT ROWID

;
INSERT INTO "points" VALUES(1,1,1,0.5,1796040000.0,1,1,0);
INSERT INTO "points" VALUES(2,1,1,2.5,1796040000.0,1,1,0);
INSERT INTO "points" VALUES(2,2,2,1.5,1796040000.0,1,2,26);
INSERT INTO "points" VALUES(3,1,1,0.75,1796040000.0,2,1,0);
CREATE TABLE run_metrics (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	count BIGINT NOT NULL, 
	last FLOAT, 
	last_step BIGINT, 
	last_timestamp FLOAT, 
	min FLOAT, 
	max FLOAT, 
	rejected BIGINT NOT NULL, 
	timeouts BIGINT NOT NULL, 
	examples JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (run_id, name), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "run_metrics" VALUES(1,1,'ganloss',1,0.5,1,1796040000.0,0.5,0.5,0,0,'[]');
INSERT INTO "run_metrics" VALUES(2,1,'loss',2,1.5,2,1796040000.0,1.5,2.5,1,0,'[["stdout", 3, "oops", "not a finite number"]]');
INSERT INTO "run_metrics" VALUES(3,2,'loss',1,0.75,1,1796040000.0,0.75,0.75,0,0,'[]');
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	job_id INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	failure_reason TEXT, 
	created_at FLOAT NOT NULL, 
	ended_at FLOAT, 
	hyperparameters JSON NOT NULL, 
	objective_value FLOAT, 
	ingest_token_hash VARCHAR(64), 
	PRIMARY KEY (id), 
	UNIQUE (job_id, name), 
	FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE
);
INSERT INTO "runs" VALUES(1,1,'run-0001','Completed',NULL,1.79624300114767599103e+09,1.79624300115908193593e+09,'{"lr": "0.01"}',1.5,NULL);
INSERT INTO "runs" VALUES(2,1,'run-0002','InProgress',NULL,1.79624300116129708296e+09,NULL,'{"lr": "0.1"}',0.75,NULL);
CREATE TABLE streams (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	next_offset BIGINT NOT NULL, 
	lines BIGINT NOT NULL, 
	partial BLOB NOT NULL, 
	partial_length BIGINT NOT NULL, 
	skip_lf BOOLEAN NOT NULL, 
	partial_timestamp FLOAT, 
	PRIMARY KEY (id), 
	UNIQUE (run_id, name), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "streams" VALUES(1,1,'stdout',51,3,X'',0,0,NULL);
INSERT INTO "streams" VALUES(2,2,'stdout',22,1,X'4C6F7373203D20302E',9,0,1796040000.0);
CREATE INDEX runs_by_creation ON runs (job_id, created_at);
CREATE INDEX runs_by_objective ON runs (job_id, objective_value);
COMMIT;
