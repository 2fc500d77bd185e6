*** Settings ***
Documentation
...  Calendly bookings become Events with their guests and co-hosts (docs/design.md section 3).
...  Runs against any org where the project's flows are active, through the REST API only:
...  | cci task run robot --org local -o suites robot/CalendlySync/tests/api -o exclude browser
Resource        ../../resources/Bookings.robot
Test Setup      Prepare People
Suite Teardown  Delete Session Records
Force Tags      api

*** Variables ***
${HOST}          admin@localorg.test

*** Test Cases ***
Guests Become Attendees Once Each
    [Documentation]  Mixed case, ; and , separators, a repeat, a non-email and the invitee
    ...              himself in the guest list: each real guest is an attendee exactly once.
    ${uuid}=  Set Variable  robot-${RUN}-guests
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot guests
    ...  guests=${GUEST_A.upper()}; ${GUEST_B},${GUEST_A} not-an-email ${INVITEE}
    ${event}=  The Only Event For Invitee  ${uuid}
    Should Be Equal  ${event}[Subject]  Robot guests
    Should Be Equal  ${event}[WhoId]  ${INVITEE_ID}
    ${emails}=  Invitee Emails Of Event  ${event}[Id]
    ${expected}=  Create List  ${GUEST_A}  ${GUEST_B}
    Sort List  ${expected}
    Lists Should Be Equal  ${emails}  ${expected}

Contact Beats Lead With The Same Email
    ${uuid}=  Set Variable  robot-${RUN}-precedence
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot precedence  guests=${SHARED}
    ${event}=  The Only Event For Invitee  ${uuid}
    @{relations}=  Salesforce Query  EventRelation  select=RelationId
    ...  EventId=${event}[Id]  where=IsInvitee = true
    Length Should Be  ${relations}  1
    Should Be Equal  ${relations}[0][RelationId]  ${SHARED_CONTACT_ID}

Unknown Guests Create Nothing
    ${uuid}=  Set Variable  robot-${RUN}-unknown
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot unknown  guests=nobody-${RUN}@nowhere.test
    ${event}=  The Only Event For Invitee  ${uuid}
    ${emails}=  Invitee Emails Of Event  ${event}[Id]
    Should Be Empty  ${emails}

Webhook Retry Makes No Second Event
    ${uuid}=  Set Variable  robot-${RUN}-retry
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot retry  guests=${GUEST_A}
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot retry  guests=${GUEST_A}
    ${event}=  The Only Event For Invitee  ${uuid}
    ${emails}=  Invitee Emails Of Event  ${event}[Id]
    Length Should Be  ${emails}  1

Cancel Frees The Slot And Keeps The Attendees
    ${uuid}=  Set Variable  robot-${RUN}-cancel
    Book Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot cancel  guests=${GUEST_A}
    Cancel Meeting  ${uuid}  ${INVITEE}  ${HOST}  Robot cancel
    ${event}=  The Only Event For Invitee  ${uuid}
    Should Be Equal  ${event}[ShowAs]  Free
    Should Be Equal  ${event}[Subject]  Canceled: Robot cancel
    ${emails}=  Invitee Emails Of Event  ${event}[Id]
    ${expected}=  Create List  ${GUEST_A}
    Lists Should Be Equal  ${emails}  ${expected}

*** Keywords ***
Prepare People
    [Documentation]  Fresh people for every test, with emails unique to this run.
    ${run}=  Unique Suffix
    Set Test Variable  ${RUN}  ${run}
    Set Test Variable  ${INVITEE}  invitee-${run}@robot.test
    Set Test Variable  ${GUEST_A}  guest-a-${run}@robot.test
    Set Test Variable  ${GUEST_B}  guest-b-${run}@robot.test
    Set Test Variable  ${SHARED}  shared-${run}@robot.test
    ${invitee_id}=  Create Contact With Email  ${INVITEE}  Invitee
    Set Test Variable  ${INVITEE_ID}  ${invitee_id}
    Create Contact With Email  ${GUEST_A}
    Create Contact With Email  ${GUEST_B}
    ${shared_contact}=  Create Contact With Email  ${SHARED}  Shared
    Set Test Variable  ${SHARED_CONTACT_ID}  ${shared_contact}
    Create Lead With Email  ${SHARED}  Shared
