BEGIN TRANSACTION;
CREATE TABLE "User" (
	id VARCHAR(255) NOT NULL,
	"FirstName" VARCHAR(255),
	"LastName" VARCHAR(255),
	"Email" VARCHAR(255),
	"Username" VARCHAR(255),
	"Alias" VARCHAR(255),
	"IsActive" VARCHAR(255),
	"TimeZoneSidKey" VARCHAR(255),
	"LocaleSidKey" VARCHAR(255),
	"EmailEncodingKey" VARCHAR(255),
	"LanguageLocaleKey" VARCHAR(255),
	"ProfileId" VARCHAR(255),
	PRIMARY KEY (id)
);
INSERT INTO "User" VALUES('User-1','Ann','Host','ann.host@acme.test','ann.host@acme.test.localorg','ahost','true','Europe/Paris','fr_FR','UTF-8','en_US','00e5g0000000001AAA');
INSERT INTO "User" VALUES('User-2','Ben','Cohost','ben.cohost@acme.test','ben.cohost@acme.test.localorg','bcohost','true','Europe/Paris','fr_FR','UTF-8','en_US','00e5g0000000001AAA');
INSERT INTO "User" VALUES('User-3','Cara','Cohost','cara.cohost@acme.test','cara.cohost@acme.test.localorg','ccohost','true','America/New_York','en_US','UTF-8','en_US','00e5g0000000001AAA');
INSERT INTO "User" VALUES('User-4','Dan','Former','dan.former@acme.test','dan.former@acme.test.localorg','dformer','false','America/New_York','en_US','UTF-8','en_US','00e5g0000000001AAA');
CREATE TABLE "Account" (
	id VARCHAR(255) NOT NULL,
	"Name" VARCHAR(255),
	PRIMARY KEY (id)
);
INSERT INTO "Account" VALUES('Account-1','Client Co');
INSERT INTO "Account" VALUES('Account-2','NewCo');
CREATE TABLE "Contact" (
	id VARCHAR(255) NOT NULL,
	"FirstName" VARCHAR(255),
	"LastName" VARCHAR(255),
	"Email" VARCHAR(255),
	"AccountId" VARCHAR(255),
	PRIMARY KEY (id)
);
INSERT INTO "Contact" VALUES('Contact-1','Paula','Prospect','paula@client.test',NULL);
INSERT INTO "Contact" VALUES('Contact-2','Quinn','Guest','quinn@client.test',NULL);
INSERT INTO "Contact" VALUES('Contact-3','Rita','Guest','rita@client.test',NULL);
INSERT INTO "Contact" VALUES('Contact-4','Sam','Shared','sam@both.test',NULL);
INSERT INTO "Contact" VALUES('Contact-5','Tom','Converted','tom@client.test','Account-1');
INSERT INTO "Contact" VALUES('Contact-6','Uma','Moved','uma@newco.test','Account-2');
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
INSERT INTO "Lead" VALUES('Lead-3','Tom','Converted','Client Co','tom@client.test');
INSERT INTO "Lead" VALUES('Lead-4','Uma','Moved','Gone Co','uma@gone.test');
COMMIT;
