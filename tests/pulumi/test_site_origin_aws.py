"""On aws a website's origin is told before Pulumi makes its bucket: the orchestrator names the bucket
(from account, region, pipeline and step) instead of Pulumi's random suffix, and keeps a recorded one."""

from __future__ import annotations

import json
import re

import pytest

from orchestrator.targets.aws.web.handlers import web_handlers
from orchestrator.targets.aws.web.site_names import site_bucket, website_host, website_origin
from orchestrator.targets.base import Previous

from .handoff_support import context, resolved_site, web_layer

# S3's rules for a bucket name, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_RULE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class Client:
    def __init__(self, account: str):
        self.account, self.asked = account, 0

    def caller_identity(self):
        self.asked += 1
        return {"Account": self.account}


class Target:
    """What the website handler reads of the aws target: its client (for the account)."""

    def __init__(self, account: str = "111122223333"):
        self.client = Client(account)


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "b.s3-website-us-east-1.amazonaws.com"),
        ("eu-west-1", "b.s3-website-eu-west-1.amazonaws.com"),
        ("eu-central-1", "b.s3-website.eu-central-1.amazonaws.com"),
        ("ap-south-1", "b.s3-website.ap-south-1.amazonaws.com"),
        ("us-gov-west-1", "b.s3-website-us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "b.s3-website.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_the_website_endpoint_has_a_dash_or_a_dot_by_region(region, host):
    assert website_host("b", region) == host
    assert website_origin("b", region) == f"http://{host}"  # S3 website endpoints serve HTTP only


def test_bucket_names_are_stable_within_s3s_rules_and_the_accounts_own():
    name = site_bucket("111122223333", "eu-west-1", "movie-reviews", "site")
    assert name == site_bucket("111122223333", "eu-west-1", "movie-reviews", "site")
    assert name.startswith("movie-reviews-site-") and BUCKET_RULE.match(name)
    assert name != site_bucket("444455556666", "eu-west-1", "movie-reviews", "site")
    assert name != site_bucket("111122223333", "us-east-1", "movie-reviews", "site")
    long = site_bucket("111122223333", "eu-west-1", "p" * 80, "Site_Step")
    assert len(long) == 63 and BUCKET_RULE.match(long)
    assert site_bucket("1", "eu-west-1", "sthree-demo", "site").startswith("site-sthree-")  # S3 refuses the prefix
    assert site_bucket("1", "eu-west-1", "xn--demo", "site").startswith("xn-demo-")  # runs of "-" become one


def test_a_run_names_the_bucket_it_told_and_the_site_reports_that_origin(pipeline, tmp_path, cloud):
    target = Target()
    handler = web_handlers(web_layer(pipeline, tmp_path, cloud), target)["website"]
    assert handler.known_outputs(pipeline, "site", pipeline.steps["site"], {}, settle=False) == {}  # plan: no account
    assert target.client.asked == 0
    told = handler.known_outputs(pipeline, "site", pipeline.steps["site"], {}, settle=True)
    bucket = site_bucket("111122223333", "eu-west-1", "demo", "site")
    assert told == {"origin": f"http://{bucket}.s3-website-eu-west-1.amazonaws.com"}
    result = handler.apply(resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    assert json.loads(cloud.deployed["demo-prod"]["config"]["orchestrator:website"])["bucket"] == bucket
    assert result.outputs["origin"] == website_origin("fake-site-bucket", "eu-west-1")  # what the stack made


def test_a_recorded_bucket_is_kept_and_needs_no_account(pipeline, tmp_path, cloud):
    target = Target()
    handler = web_handlers(web_layer(pipeline, tmp_path, cloud), target)["website"]
    recorded = {"bucket": "demo-site-abc1234", "url": "http://demo-site-abc1234.s3-website-eu-west-1.amazonaws.com"}
    told = handler.known_outputs(pipeline, "site", pipeline.steps["site"], recorded, settle=True)
    assert told == {"origin": "http://demo-site-abc1234.s3-website-eu-west-1.amazonaws.com"}
    previous = Previous("f" * 64, recorded, {}, {"stack": "demo-prod"}, 1)
    handler.apply(resolved_site(pipeline), context(pipeline, tmp_path, "site", "website", previous=previous))
    config = json.loads(cloud.deployed["demo-prod"]["config"]["orchestrator:website"])
    assert config["bucket"] == "demo-site-abc1234"  # renaming it would replace the site
    assert target.client.asked == 0
