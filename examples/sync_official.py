"""The official SDK's sync usage, unchanged but for the import: runs on the emulator.

    RUNWAYML_BASE_URL=... RUNWAYML_API_SECRET=... python examples/sync_official.py

(``runway-async emulator`` prints both.) CI runs this file with the import switched,
as the proof that code written for ``runwayml.RunwayML`` runs on ``runway_async``.
"""

import os

import runway_async as runwayml  # was: import runwayml
from runway_async import RunwayML  # was: from runwayml import RunwayML

client = RunwayML(
    api_key=os.environ.get("RUNWAYML_API_SECRET"),  # This is the default and can be omitted
)

image_to_video = client.image_to_video.create(
    model="gen4_turbo",
    prompt_image="https://example.com/assets/bunny.jpg",
    ratio="1280:720",
    prompt_text="The bunny is eating a carrot",
)
print(image_to_video.id)

task = image_to_video.wait_for_task_output()
print(task.status, task.output)

again = client.tasks.retrieve(image_to_video.id)
print(again.status, again.wait_for_task_output().status)

organization = client.organization.retrieve()
print(organization.credit_balance)

try:
    client.tasks.retrieve("00000000-0000-0000-0000-000000000000")
except runwayml.APIConnectionError as e:
    print("The server could not be reached")
    print(e.__cause__)
except runwayml.RateLimitError:
    print("A 429 status code was received; we should back off a bit.")
except runwayml.APIStatusError as e:
    print("Another non-200-range status code was received")
    print(e.status_code)
