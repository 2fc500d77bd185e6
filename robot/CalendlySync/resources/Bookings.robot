*** Settings ***
Documentation
...  Keywords that book and cancel meetings the way Calendly's package does: by inserting
...  Calendly__CalendlyAction__c records through the REST API. The active CreateEventTemplate
...  flow turns each record into an Event with its participants.
...  API only: nothing here opens a browser.
Library        Collections
Library        String
Library        cumulusci.robotframework.CumulusCI  ${ORG}
Library        cumulusci.robotframework.SalesforceAPI

*** Variables ***
${ORG}         ${empty}

*** Keywords ***
Unique Suffix
    [Documentation]  A random suffix, so re-runs against the same org never collide.
    ${suffix}=  Generate Random String  10  [LOWER][NUMBERS]
    RETURN  ${suffix}

Create Contact With Email
    [Arguments]  ${email}  ${last_name}=Guest
    ${id}=  Salesforce Insert  Contact  FirstName=Robot  LastName=${last_name}  Email=${email}
    RETURN  ${id}

Create Lead With Email
    [Arguments]  ${email}  ${last_name}=Prospect
    ${id}=  Salesforce Insert  Lead  LastName=${last_name}  Company=Robot Co  Email=${email}
    RETURN  ${id}

Book Meeting
    [Documentation]  Inserts one invitee.created booking; returns the CalendlyAction id.
    [Arguments]  ${invitee_uuid}  ${invitee_email}  ${host_email}  ${subject}
    ...          ${guests}=${EMPTY}  ${hosts}=${EMPTY}  ${kind}=OneOnOne
    ${id}=  Salesforce Insert  Calendly__CalendlyAction__c
    ...  Name=invitee.created
    ...  Calendly__InviteeUuid__c=${invitee_uuid}
    ...  Calendly__EventUuid__c=evt-${invitee_uuid}
    ...  Calendly__InviteeEmail__c=${invitee_email}
    ...  Calendly__EventSubject__c=${subject}
    ...  Calendly__EventStartTime__c=2026-12-01T09:00:00.000Z
    ...  Calendly__EventEndTime__c=2026-12-01T09:30:00.000Z
    ...  Calendly__EventPrimaryPublisherEmail__c=${host_email}
    ...  Calendly__EventTypeKind__c=${kind}
    ...  Calendly__EventGuestEmails__c=${guests}
    ...  Calendly__EventHostEmails__c=${hosts}
    RETURN  ${id}

Cancel Meeting
    [Arguments]  ${invitee_uuid}  ${invitee_email}  ${host_email}  ${subject}
    ${id}=  Salesforce Insert  Calendly__CalendlyAction__c
    ...  Name=invitee.canceled
    ...  Calendly__InviteeUuid__c=${invitee_uuid}
    ...  Calendly__EventUuid__c=evt-${invitee_uuid}
    ...  Calendly__InviteeEmail__c=${invitee_email}
    ...  Calendly__EventSubject__c=${subject}
    ...  Calendly__EventStartTime__c=2026-12-01T09:00:00.000Z
    ...  Calendly__EventEndTime__c=2026-12-01T09:30:00.000Z
    ...  Calendly__EventPrimaryPublisherEmail__c=${host_email}
    ...  Calendly__EventTypeKind__c=OneOnOne
    ...  Calendly__InviteeCanceled__c=${TRUE}
    RETURN  ${id}

Events For Invitee
    [Documentation]  The Events carrying this invitee uuid (registered for deletion at teardown).
    [Arguments]  ${invitee_uuid}
    @{events}=  Salesforce Query  Event
    ...  select=Id,Subject,ShowAs,WhoId,OwnerId
    ...  Calendly__InviteeUuid__c=${invitee_uuid}
    FOR  ${event}  IN  @{events}
        Store Session Record  Event  ${event}[Id]
    END
    RETURN  @{events}

The Only Event For Invitee
    [Arguments]  ${invitee_uuid}
    @{events}=  Events For Invitee  ${invitee_uuid}
    Length Should Be  ${events}  1  Expected exactly one Event for ${invitee_uuid}
    RETURN  ${events}[0]

Invitee Emails Of Event
    [Documentation]  Lower-cased emails of the Event's attendees (IsInvitee = true), sorted.
    [Arguments]  ${event_id}
    @{relations}=  Salesforce Query  EventRelation
    ...  select=Relation.Email,IsInvitee,IsParent
    ...  EventId=${event_id}
    ...  where=IsInvitee = true
    @{emails}=  Create List
    FOR  ${relation}  IN  @{relations}
        ${email}=  Convert To Lower Case  ${relation}[Relation][Email]
        Append To List  ${emails}  ${email}
    END
    Sort List  ${emails}
    RETURN  ${emails}
