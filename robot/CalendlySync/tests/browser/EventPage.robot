*** Settings ***
Documentation
...  On a real org (scratch org or sandbox) with the layout patch deployed: a booked meeting's
...  Event record page shows the Attendees field listing the guests. Opens a browser, so it is
...  tagged `browser` and excluded from the offline runs on the local org:
...  | cci task run robot --org dev -o suites robot/CalendlySync/tests/browser
Resource        cumulusci/robotframework/Salesforce.robot
Resource        ../../resources/Bookings.robot
Suite Setup     Open Test Browser
Suite Teardown  Delete Records And Close Browser
Force Tags      browser

*** Test Cases ***
Event Page Shows Attendees
    ${run}=  Unique Suffix
    ${guest}=  Set Variable  guest-${run}@robot.test
    Create Contact With Email  ${guest}  Attendee${run}
    ${user}=  Get Current User Email
    Book Meeting  robot-${run}-page  invitee-${run}@robot.test  ${user}  Robot page
    ...  guests=${guest}
    ${event}=  The Only Event For Invitee  robot-${run}-page
    Go To Record Home  ${event}[Id]
    Wait Until Page Contains  Attendees
    Wait Until Page Contains  Attendee${run}

*** Keywords ***
Get Current User Email
    ${info}=  Get Org Info
    @{users}=  Salesforce Query  User  select=Email  Username=${info}[username]
    RETURN  ${users}[0][Email]
