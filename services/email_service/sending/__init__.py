"""Sending: the outbox, MIME building, one SMTP drainer per account, the Sent copy, the send task and API.

States of an outbox row (the row is the truth; its id is the send task's id):

    scheduled --due (eta, or the tick)--> queued --claimed by the drainer (committed)--> sending
    sending --2xx--> sent     sending --5xx / retries spent--> failed
    sending --4xx or connection lost before DATA--> queued (retried)
    sending --no reply after DATA--> uncertain (never resent)
    sending --drainer died; next drainer: copy in Sent?--> sent | uncertain
    scheduled | queued --cancel--> cancelled
"""
