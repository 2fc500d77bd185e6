BEGIN TRANSACTION;
CREATE TABLE "Contact" (
	id VARCHAR(255) NOT NULL,
	"FirstName" VARCHAR(255),
	"LastName" VARCHAR(255),
	"Email" VARCHAR(255),
	PRIMARY KEY (id)
);
INSERT INTO "Contact" VALUES('Contact-1','Paula','Prospect','paula@client.test');
INSERT INTO "Contact" VALUES('Contact-2','Quinn','Guest','quinn@client.test');
INSERT INTO "Contact" VALUES('Contact-3','Rita','Guest','rita@client.test');
INSERT INTO "Contact" VALUES('Contact-4','Sam','Shared','sam@both.test');
CREATE TABLE "Lead" (
	id VARCHAR(255) NOT NULL,
	"FirstName" VARCHAR(255),
	"LastName" VARCHAR(255),
	"Company" VARCHAR(255),
	"Email" VARCHAR(255),
	PRIMARY KEY (id)
);
INSERT INTO "Lead" VALUES('Lead-1','Lena','Lead','Lead Co','lena@lead.test');
INSERT INTO "Lead" VALUES('Lead-2','Sam','Shared','Both Co','sam@both.test');
COMMIT;
