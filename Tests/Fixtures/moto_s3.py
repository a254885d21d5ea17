#!/usr/bin/env python3
"""moto's S3 (and IAM) on a loopback port, checking signatures like real S3.

Usage: moto_s3.py   (prints "PORT <n> KEY <access key id> SECRET <secret>" once ready)

moto accepts any signature unless told otherwise: /moto-api/reset-auth with body "3" turns
authentication on after three free calls, which create an IAM user with an access key and
an s3:* policy. From then on a request signed with another secret gets 403.
"""
import json
import socket
import sys
import time
import urllib.request

import boto3
from moto.server import ThreadedMotoServer

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
endpoint = f"http://127.0.0.1:{port}"
request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"3", method="POST",
                                 headers={"Content-Type": "text/plain"})
urllib.request.urlopen(request).read()
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="tracebox")
key = iam.create_access_key(UserName="tracebox")["AccessKey"]
iam.put_user_policy(UserName="tracebox", PolicyName="s3", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}))
print(f"PORT {port} KEY {key['AccessKeyId']} SECRET {key['SecretAccessKey']}", flush=True)
while True:
    time.sleep(3600)
