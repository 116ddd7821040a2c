import cProfile, pstats, io, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisoros.settings")
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from advisoros.tenancy.db import tenant_context
from bench.harness import bench_firm_ensure
from bench import portal as bp
firm = bench_firm_ensure("bench-100k")
with tenant_context(firm.organization):
    http = bp.portal_http(firm)
    url = bp.portal_home(firm)
    req = bp.portal_request(firm)
from django.test import Client
for u in (url, req):
    for _ in range(20): http.get(u, HTTP_HOST="127.0.0.1")
    pr = cProfile.Profile(); pr.enable()
    for _ in range(50): r = http.get(u, HTTP_HOST="127.0.0.1")
    pr.disable()
    print(u, r.status_code)
    s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(45); print(s.getvalue()[:7000])
