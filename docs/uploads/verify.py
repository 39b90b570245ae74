# pip install standardwebhooks
import json
import os
import sys

from standardwebhooks import Webhook, WebhookVerificationError

body = sys.stdin.buffer.read()  # the raw request body, exactly as received
headers = {
    "webhook-id": os.environ["WEBHOOK_ID"],
    "webhook-timestamp": os.environ["WEBHOOK_TIMESTAMP"],
    "webhook-signature": os.environ["WEBHOOK_SIGNATURE"],
}
try:
    event = Webhook(os.environ["WEBHOOK_SECRET"]).verify(body, headers)
except WebhookVerificationError:
    sys.exit("forged or stale: answer 400")
print(json.dumps({"type": event["type"], "id": event["data"]["id"]}))
