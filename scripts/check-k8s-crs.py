#!/usr/bin/env python3
"""Splits one `kustomize build` render for scripts/check-k8s.sh and checks its custom resources.

    python3 scripts/check-k8s-crs.py RENDER.yaml VALIDATE_OUT.yaml JSON_OUT [CRD_DIR ...]

VALIDATE_OUT gets what kubectl-validate can check: the built-in objects, every custom resource whose
group/version/kind has a schema in one of the CRD_DIRs (the CRDs `kubectl-validate --local-crds` is given),
and each MongoDBCommunity's statefulSet override as a StatefulSet (free-form in the CRD).
JSON_OUT gets every object (for check-k8s-policy.mjs). Prints one JSON line: counts, the kinds of the
custom resources that have no schema, and `errors`.

The errors are what the CRD schemas cannot say: references between resources (the strimzi.io/cluster label
names a Kafka of this render, in the namespace its operators watch; a topic has no more replicas than the
cluster has brokers) and this project's rules (topics set partitions, replicas and min.insync.replicas
explicitly; every KafkaUser authenticates; each MongoDB user names its database and Secrets). Plus the one
CEL rule of Strimzi 0.47 the generated CRDs lack (see check-k8s-crds.sh): a jmxPrometheusExporter
metricsConfig needs valueFrom.
"""
import glob
import json
import os
import sys

import yaml

CR_GROUPS = {"kafka.strimzi.io", "core.strimzi.io", "mongodbcommunity.mongodb.com"}


def load_crd_schemas(dirs):
    have = set()
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, "*.yaml")) + glob.glob(os.path.join(d, "*.yml"))):
            for c in yaml.safe_load_all(open(f)):
                if not c or c.get("kind") != "CustomResourceDefinition":
                    continue
                for v in c["spec"]["versions"]:
                    if v.get("served") and (v.get("schema") or {}).get("openAPIV3Schema"):
                        have.add((c["spec"]["group"], v["name"], c["spec"]["names"]["kind"]))
    return have


def main():
    src, validate_out, json_out, crd_dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    schemas = load_crd_schemas(crd_dirs)
    docs = [d for d in yaml.safe_load_all(open(src)) if d is not None]
    validate, crs, unschematized, errors = [], [], set(), []
    for d in docs:
        api, kind, name = d.get("apiVersion"), d.get("kind"), (d.get("metadata") or {}).get("name")
        if not api or not kind or not name:
            errors.append(f"object without apiVersion/kind/metadata.name: {json.dumps(d)[:120]}")
            continue
        group, _, version = api.rpartition("/")
        if group in CR_GROUPS:
            crs.append(d)
            if (group, version, kind) in schemas:
                validate.append(d)
            else:
                unschematized.add(f"{kind}.{api}")
        else:
            validate.append(d)
    # MongoDBCommunity's spec.statefulSet.spec is free-form in its CRD (the operator merges it into the
    # StatefulSet it makes): validate it as a StatefulSet, with the one required field it leaves to the operator.
    overrides = 0
    for d in crs:
        sts = get(d, "spec.statefulSet.spec") if d["kind"] == "MongoDBCommunity" else None
        if isinstance(sts, dict):
            spec = {"selector": {"matchLabels": {"app": "override-check"}}, **sts}
            validate.append({"apiVersion": "apps/v1", "kind": "StatefulSet",
                             "metadata": {"name": f"{d['metadata']['name']}-statefulset-override",
                                          "namespace": d["metadata"].get("namespace", "default")},
                             "spec": spec})
            overrides += 1
    yaml.safe_dump_all(validate, open(validate_out, "w"), sort_keys=False)
    json.dump(docs, open(json_out, "w"))
    errors += check(crs)
    print(json.dumps({
        "docs": len(docs),
        "builtin": len(docs) - len(crs),
        "crs": len(crs),
        "crs_validated": len([d for d in validate if d in crs]),
        "overrides": overrides,
        "kinds": sorted({d["kind"] for d in crs}),
        "unschematized": sorted(unschematized),
        "errors": errors,
    }))


def get(d, path):
    for p in path.split("."):
        d = d.get(p) if isinstance(d, dict) else None
    return d


def check(crs):
    errors = []

    def err(d, msg):
        errors.append(f"{d['kind']} {d['metadata'].get('namespace', '-')}/{d['metadata']['name']}: {msg}")

    is_pos_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0
    kafkas = {d["metadata"]["name"]: d for d in crs if d["kind"] == "Kafka"}
    pools = [d for d in crs if d["kind"] == "KafkaNodePool"]
    ns = lambda d: d["metadata"].get("namespace")

    def brokers(cluster):
        return sum(p["spec"].get("replicas") or 0 for p in pools
                   if (p["metadata"].get("labels") or {}).get("strimzi.io/cluster") == cluster
                   and "broker" in (p["spec"].get("roles") or []))

    for d in crs:
        k, spec = d["kind"], d.get("spec") if isinstance(d.get("spec"), dict) else {}
        if not spec:
            err(d, "has no spec")
        # Strimzi 0.47 puts this CEL rule on metricsConfig; the generated CRDs lack it.
        stack = [spec]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                m = v.get("metricsConfig")
                if isinstance(m, dict) and m.get("type") == "jmxPrometheusExporter" and "valueFrom" not in m:
                    err(d, "metricsConfig of type jmxPrometheusExporter needs valueFrom")
                stack += list(v.values())
            elif isinstance(v, list):
                stack += v
        if k == "Kafka" and pools:
            name = d["metadata"]["name"]
            mine = [p for p in pools if (p["metadata"].get("labels") or {}).get("strimzi.io/cluster") == name]
            for role in ("broker", "controller"):
                if not any(role in (p["spec"].get("roles") or []) for p in mine):
                    err(d, f"no KafkaNodePool with role {role} for this cluster (KRaft needs both)")
        if k in ("KafkaNodePool", "KafkaTopic", "KafkaUser"):
            cluster = (d["metadata"].get("labels") or {}).get("strimzi.io/cluster")
            kafka = kafkas.get(cluster)
            if not cluster:
                err(d, "no strimzi.io/cluster label")
            elif kafkas and not kafka:
                err(d, f"strimzi.io/cluster={cluster} names no Kafka in this render")
            if kafka:
                eo = kafka["spec"].get("entityOperator") or {}
                if k == "KafkaNodePool" and ns(d) != ns(kafka):
                    err(d, f"not in the namespace of Kafka {cluster} ({ns(kafka)})")
                if k == "KafkaTopic":
                    if eo.get("topicOperator") is None:
                        err(d, f"Kafka {cluster} runs no Topic Operator")
                    elif ns(d) != (eo["topicOperator"].get("watchedNamespace") or ns(kafka)):
                        err(d, f"not in the namespace Kafka {cluster}'s Topic Operator watches")
                    n = brokers(cluster)
                    if pools and is_pos_int(spec.get("replicas")) and spec["replicas"] > n:
                        err(d, f"spec.replicas {spec['replicas']} > the {n} brokers of Kafka {cluster}")
                if k == "KafkaUser":
                    if eo.get("userOperator") is None:
                        err(d, f"Kafka {cluster} runs no User Operator")
                    elif ns(d) != (eo["userOperator"].get("watchedNamespace") or ns(kafka)):
                        err(d, f"not in the namespace Kafka {cluster}'s User Operator watches")
            if k == "KafkaTopic":
                # Project rule: the KafkaTopic is the production truth, so nothing is left to broker defaults.
                for f in ("partitions", "replicas"):
                    if not is_pos_int(spec.get(f)):
                        err(d, f"spec.{f} is not set to a positive integer")
                isr = (spec.get("config") or {}).get("min.insync.replicas")
                if not is_pos_int(isr):
                    err(d, "spec.config.min.insync.replicas is not set")
                elif is_pos_int(spec.get("replicas")) and isr >= spec["replicas"]:
                    err(d, f"min.insync.replicas {isr} leaves no replica to lose (replicas {spec['replicas']})")
            if k == "KafkaUser":
                if not get(d, "spec.authentication.type"):
                    err(d, "spec.authentication is missing (every user authenticates)")
                for a in get(d, "spec.authorization.acls") or []:
                    r = a.get("resource") or {}
                    if r.get("type") != "cluster" and not r.get("name"):
                        err(d, f"ACL on a {r.get('type')} without resource name")
        elif k == "MongoDBCommunity":
            if not is_pos_int(spec.get("members")):
                err(d, "spec.members is not a positive integer")
            v = spec.get("version")
            if not (isinstance(v, str) and v.count(".") == 2):
                err(d, "spec.version is not a full version string (x.y.z)")
            for u in spec.get("users") or []:
                if not (u.get("db") and get(u, "passwordSecretRef.name") and u.get("scramCredentialsSecretName")):
                    err(d, f"user {u.get('name')} lacks db/passwordSecretRef.name/scramCredentialsSecretName")
    return errors


if __name__ == "__main__":
    main()
