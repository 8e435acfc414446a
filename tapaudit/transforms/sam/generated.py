"""What SAM generates beyond what the built-in rules read, so a custom rule sees SAM as
CloudFormation: the logical ids and types aws-sam-translator writes (compared with it over the
corpus and its own test pairs, tests/transforms/test_sam_ids.py), with the properties that carry
over cheaply. Ids the translator derives from a hash of the content (deployments, versions, layer
versions) end in a hash of ours: the same shape, not the same digits.

Every resource here is optional: one whose id is already taken is not written (the user's resource
stays what the rules see), and none of them changes a built-in rule's verdict.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from tapaudit.transforms.sam.context import SamContext
from tapaudit.transforms.sam.globals import merged_properties

IMPLICIT_REST_API = "ServerlessRestApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
ESM_EVENTS = ("SQS", "Kinesis", "DynamoDB", "MSK", "MQ", "SelfManagedKafka", "DocumentDB")
_ESM_SOURCE = {"SQS": "Queue", "Kinesis": "Stream", "DynamoDB": "Stream", "MSK": "Stream", "MQ": "Broker",
               "DocumentDB": "Cluster"}
_ESM_SKIP = {"Queue", "Stream", "Broker", "Cluster", "Queues", "Topics", "SourceAccessConfigurations",
             "KafkaBootstrapServers", "Enabled"}
# Event types whose resource policy lets the service invoke the function: <F><Event>Permission.
_PERMISSION_EVENTS = {"S3": "s3.amazonaws.com", "SNS": "sns.amazonaws.com",
                      "Schedule": "events.amazonaws.com", "EventBridgeRule": "events.amazonaws.com",
                      "CloudWatchEvent": "events.amazonaws.com", "CloudWatchLogs": "logs.amazonaws.com",
                      "IoTRule": "iot.amazonaws.com", "AlexaSkill": "alexa-appkit.amazon.com",
                      "Cognito": "cognito-idp.amazonaws.com", "HttpApi": "apigateway.amazonaws.com"}
KNOWN_EVENTS = frozenset({*ESM_EVENTS, *_PERMISSION_EVENTS, "Api", "ScheduleV2"})
_DESTINATIONS = {"SQS": ("Queue", "AWS::SQS::Queue"), "SNS": ("Topic", "AWS::SNS::Topic")}


def _ref(logical_id: str) -> dict:
    return {"Ref": logical_id}


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _permission(ctx: SamContext, logical_id: str, function_id: str, principal: str, source: str,
                path: tuple, label: str) -> None:
    ctx.extra(logical_id, {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": _ref(function_id), "Principal": principal}},
        source, path, label)


# Functions -------------------------------------------------------------------------------------

def function_extras(ctx: SamContext, name: str, props: dict) -> None:
    path = ("Resources", name)
    alias = _string(props.get("AutoPublishAlias"))
    if alias:
        version = f"{name}Version{_hash(name)}"
        ctx.extra(version, {"Type": "AWS::Lambda::Version", "Properties": {
            "FunctionName": _ref(name), "Description": props.get("VersionDescription")}}, name, path)
        alias_props: dict[str, Any] = {"Name": alias, "FunctionName": _ref(name),
                                       "FunctionVersion": {"Fn::GetAtt": [version, "Version"]}}
        if props.get("ProvisionedConcurrencyConfig") is not None:
            alias_props["ProvisionedConcurrencyConfig"] = props["ProvisionedConcurrencyConfig"]
        ctx.extra(f"{name}Alias{_alnum(alias)}", {"Type": "AWS::Lambda::Alias", "Properties": alias_props},
                  name, path)
    deployment = props.get("DeploymentPreference")
    if alias and isinstance(deployment, dict):
        ctx.extra("ServerlessDeploymentApplication", {"Type": "AWS::CodeDeploy::Application",
                                                      "Properties": {"ComputePlatform": "Lambda"}},
                  name, path)
        if deployment.get("Role") is None:
            ctx.extra("CodeDeployServiceRole", {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": _trust("codedeploy.amazonaws.com")}}, name, path)
        ctx.extra(f"{name}DeploymentGroup", {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {
            "ApplicationName": _ref("ServerlessDeploymentApplication"),
            "DeploymentConfigName": deployment.get("Type")}}, name, path)
    url = props.get("FunctionUrlConfig")
    if isinstance(url, dict):
        target = f"{name}Alias{_alnum(alias)}" if alias else name
        ctx.extra(f"{name}Url", {"Type": "AWS::Lambda::Url", "Properties": {
            "TargetFunctionArn": _ref(target), **{k: url[k] for k in ("AuthType", "Cors", "InvokeMode")
                                                 if k in url}}}, name, path, "FunctionUrlConfig")
        if url.get("AuthType") == "NONE":
            for suffix, action in (("UrlPublicPermissions", "lambda:InvokeFunctionUrl"),
                                   ("URLInvokeAllowPublicAccess", "lambda:InvokeFunction")):
                ctx.extra(f"{name}{suffix}", {"Type": "AWS::Lambda::Permission", "Properties": {
                    "Action": action, "FunctionName": _ref(target), "Principal": "*"}},
                    name, path, "FunctionUrlConfig")
    invoke = props.get("EventInvokeConfig")
    if isinstance(invoke, dict):
        _event_invoke_config(ctx, name, invoke)


def _event_invoke_config(ctx: SamContext, name: str, config: dict) -> None:
    config_id = f"{name}EventInvokeConfig"
    path = ("Resources", name, "Properties", "EventInvokeConfig")
    destinations = config.get("DestinationConfig")
    for outcome in ("OnSuccess", "OnFailure"):
        spec = destinations.get(outcome) if isinstance(destinations, dict) else None
        if not isinstance(spec, dict) or spec.get("Destination") is not None:
            continue
        kind = _DESTINATIONS.get(spec.get("Type"))
        if kind:
            ctx.extra(f"{config_id}{outcome}{kind[0]}", {"Type": kind[1], "Properties": {}}, name, path,
                      "EventInvokeConfig")
    ctx.extra(config_id, {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
        "FunctionName": _ref(name), "Qualifier": "$LATEST",
        **{k: config[k] for k in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts") if k in config}}},
        name, path, "EventInvokeConfig")


def function_event(ctx: SamContext, name: str, event_id: str, kind: str, props: dict) -> None:
    """The resources of one function event besides the rules and schedules (events.py)."""
    path = ctx.event_path(name, event_id)
    label = f"event {event_id}"
    if kind in ESM_EVENTS:
        esm = {"FunctionName": _ref(name), **{k: v for k, v in props.items() if k not in _ESM_SKIP}}
        source = props.get(_ESM_SOURCE.get(kind, ""))
        if source is not None:
            esm["EventSourceArn"] = source
        ctx.extra(f"{name}{event_id}", {"Type": "AWS::Lambda::EventSourceMapping", "Properties": esm},
                  name, path, label)
    elif kind == "Api":
        _api_permission(ctx, name, event_id, props)
    elif kind in _PERMISSION_EVENTS:
        _permission(ctx, f"{name}{event_id}Permission", name, _PERMISSION_EVENTS[kind], name, path, label)
        if kind == "SNS":
            _sns_subscription(ctx, name, event_id, props)
        elif kind == "CloudWatchLogs":
            ctx.extra(f"{name}{event_id}", {"Type": "AWS::Logs::SubscriptionFilter", "Properties": {
                "DestinationArn": {"Fn::GetAtt": [name, "Arn"]}, "LogGroupName": props.get("LogGroupName"),
                "FilterPattern": props.get("FilterPattern")}}, name, path, label)
        elif kind == "IoTRule":
            payload = {"Sql": props.get("Sql"), "AwsIotSqlVersion": props.get("AwsIotSqlVersion"),
                       "Actions": [{"Lambda": {"FunctionArn": {"Fn::GetAtt": [name, "Arn"]}}}]}
            ctx.extra(f"{name}{event_id}", {"Type": "AWS::IoT::TopicRule",
                                            "Properties": {"TopicRulePayload": payload}}, name, path, label)
        elif kind == "HttpApi" and props.get("ApiId") is None:
            ctx.implicit_http_api = True


def _sns_subscription(ctx: SamContext, name: str, event_id: str, props: dict) -> None:
    path = ctx.event_path(name, event_id)
    label = f"event {event_id}"
    queue = props.get("SqsSubscription")
    endpoint: Any = {"Fn::GetAtt": [name, "Arn"]}
    protocol = "lambda"
    subscription_id = f"{name}{event_id}"
    if queue is True or isinstance(queue, dict):
        subscription_id = f"{name}{event_id}Subscription" if isinstance(queue, dict) else subscription_id
        queue_arn = queue.get("QueueArn") if isinstance(queue, dict) else None
        if queue_arn is None:
            ctx.extra(f"{name}{event_id}Queue", {"Type": "AWS::SQS::Queue", "Properties": {}}, name, path,
                      label)
            queue_arn = {"Fn::GetAtt": [f"{name}{event_id}Queue", "Arn"]}
        queue_url = queue.get("QueueUrl") if isinstance(queue, dict) else _ref(f"{name}{event_id}Queue")
        ctx.extra(f"{name}{event_id}QueuePolicy", {"Type": "AWS::SQS::QueuePolicy",
                                                   "Properties": {"Queues": [queue_url]}}, name, path, label)
        ctx.extra(f"{name}{event_id}EventSourceMapping", {"Type": "AWS::Lambda::EventSourceMapping",
                                                          "Properties": {"FunctionName": _ref(name),
                                                                         "EventSourceArn": queue_arn}},
                  name, path, label)
        endpoint, protocol = queue_arn, "sqs"
    ctx.extra(subscription_id, {"Type": "AWS::SNS::Subscription", "Properties": {
        "Endpoint": endpoint, "Protocol": protocol, "TopicArn": props.get("Topic"),
        **{k: props[k] for k in ("FilterPolicy", "FilterPolicyScope", "Region") if k in props}}},
        name, path, label)


def _api_permission(ctx: SamContext, name: str, event_id: str, props: dict) -> None:
    api = props.get("RestApiId")
    if api is None:
        ctx.implicit_rest_api = True
        stage: Any = "Prod"
    else:
        api_id = api if isinstance(api, str) else api.get("Ref") if isinstance(api, dict) and len(api) == 1 \
            else None
        stage = _stage_name(ctx, api_id) if isinstance(api_id, str) else None
    if stage is not None:
        _permission(ctx, f"{name}{event_id}Permission{_suffix(stage)}", name, "apigateway.amazonaws.com",
                    name, ctx.event_path(name, event_id), f"event {event_id}")


def _suffix(value: Any) -> str:
    """A name as SAM appends it to an id: as is when alphanumeric, else a hash of it."""
    return value if isinstance(value, str) and value.isalnum() else _hash(value)


def _stage_name(ctx: SamContext, api_id: str) -> Any:
    if ctx.source_types.get(api_id) != "AWS::Serverless::Api":
        return None
    return ctx.source_properties(api_id, "Api").get("StageName")


def _trust(service: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
                                                    "Principal": {"Service": [service]}}]}


# State machines ----------------------------------------------------------------------------------

def state_machine_extras(ctx: SamContext, name: str, props: dict) -> None:
    path = ("Resources", name)
    if props.get("Role") is None:
        ctx.extra(f"{name}Role", {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": _trust("states.amazonaws.com")}}, name, path, "generated role")
    alias = _string(props.get("AutoPublishAlias"))
    if alias:
        ctx.extra(f"{name}Version", {"Type": "AWS::StepFunctions::StateMachineVersion", "Properties": {
            "StateMachineArn": _ref(name)}}, name, path)
        ctx.extra(f"{name}Alias{_alnum(alias)}", {"Type": "AWS::StepFunctions::StateMachineAlias",
                                                   "Properties": {"Name": alias}}, name, path)


def state_machine_api_event(ctx: SamContext, name: str, event_id: str, props: dict) -> None:
    ctx.extra(f"{name}{event_id}Role", {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": _trust("apigateway.amazonaws.com")}},
        name, ctx.event_path(name, event_id), f"event {event_id}")
    if props.get("RestApiId") is None:
        ctx.implicit_rest_api = True


# APIs --------------------------------------------------------------------------------------------

_REST_API_KEYS = ("Name", "Description", "BinaryMediaTypes", "MinimumCompressionSize", "Mode",
                  "ApiKeySourceType", "DisableExecuteApiEndpoint", "FailOnWarnings")
_STAGE_KEYS = ("TracingEnabled", "MethodSettings", "AccessLogSetting", "CacheClusterEnabled",
               "CacheClusterSize", "Variables", "CanarySetting")


def rest_api(ctx: SamContext, name: str, props: dict, path: tuple, owner: str | None = None,
             label: str = "") -> None:
    """An API's RestApi, Deployment and Stage (with its domain, usage plan, authorizer
    permissions); `owner`: the resource findings go back to (the API, or the function whose
    events made SAM write an implicit API)."""
    owner = owner or name
    api: dict[str, Any] = {k: props[k] for k in _REST_API_KEYS if k in props}
    moved = _definition(props, path, api)
    endpoint = props.get("EndpointConfiguration")
    if isinstance(endpoint, str):
        api["EndpointConfiguration"] = {"Types": [endpoint]}
    elif endpoint is not None:
        api["EndpointConfiguration"] = endpoint
    ctx.extra(name, {"Type": "AWS::ApiGateway::RestApi", "Properties": api}, owner, path, label,
              mirror=owner == name, moved=moved)
    deployment = f"{name}Deployment{_hash(name)}"
    ctx.extra(deployment, {"Type": "AWS::ApiGateway::Deployment", "Properties": {
        "RestApiId": _ref(name), "Description": f"RestApi deployment id: {deployment}"}}, owner, path, label)
    stage = props.get("StageName", "Prod")
    stage_id = f"{name}{stage}Stage" if isinstance(stage, str) and stage.isalnum() \
        else f"{name}Stage{_hash(stage)}"
    ctx.extra(stage_id, {"Type": "AWS::ApiGateway::Stage", "Properties": {
        "RestApiId": _ref(name), "DeploymentId": _ref(deployment), "StageName": stage,
        **{k: props[k] for k in _STAGE_KEYS if k in props}}}, owner, path, label)
    _authorizer_permissions(ctx, name, owner, props, path, by_default=True)
    _domain(ctx, name, owner, props, path, http=False)
    _usage_plan(ctx, name, owner, props, path)


def _authorizer_permissions(ctx: SamContext, name: str, owner: str, props: dict, path: tuple,
                            by_default: bool) -> None:
    auth = props.get("Auth")
    authorizers = auth.get("Authorizers") if isinstance(auth, dict) else None
    for auth_id, spec in (authorizers.items() if isinstance(authorizers, dict) else ()):
        if not isinstance(spec, dict) or spec.get("FunctionArn") is None:
            continue
        # REST APIs write the permission unless disabled; HTTP APIs only when enabled.
        if (spec.get("DisableFunctionDefaultPermissions") is not True if by_default
                else spec.get("EnableFunctionDefaultPermissions") is True):
            ctx.extra(f"{name}{auth_id}AuthorizerPermission", {"Type": "AWS::Lambda::Permission",
                                                               "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": spec["FunctionArn"],
                "Principal": "apigateway.amazonaws.com"}}, owner, path, "Auth")


def _domain(ctx: SamContext, name: str, owner: str, props: dict, path: tuple, http: bool) -> None:
    """A custom domain: its DomainName (shared by the APIs that name it), one mapping per base
    path, and the Route 53 records."""
    domain = props.get("Domain")
    if not isinstance(domain, dict) or domain.get("DomainName") is None:
        return
    private = domain.get("EndpointConfiguration") == "PRIVATE"
    where = (*path, "Properties", "Domain")
    if http:
        kind, mapping = ("ApiGatewayDomainNameV2", "AWS::ApiGatewayV2::DomainName"), \
            ("ApiMapping", "AWS::ApiGatewayV2::ApiMapping")
    elif private:
        kind, mapping = ("ApiGatewayDomainNameV2", "AWS::ApiGateway::DomainNameV2"), \
            ("BasePathMapping", "AWS::ApiGateway::BasePathMappingV2")
    else:
        kind, mapping = ("ApiGatewayDomainName", "AWS::ApiGateway::DomainName"), \
            ("BasePathMapping", "AWS::ApiGateway::BasePathMapping")
    domain_id = f"{kind[0]}{_hash(domain['DomainName'])}"
    ctx.extra(domain_id, {"Type": kind[1], "Properties": {"DomainName": domain["DomainName"]}},
              owner, where, "Domain")
    paths = domain.get("BasePath")
    for base in paths if isinstance(paths, list) else [paths if paths is not None else ""]:
        if isinstance(base, str):
            ctx.extra(f"{name}{_alnum(base)}{mapping[0]}", {"Type": mapping[1], "Properties": {
                "DomainName": _ref(domain_id)}}, owner, where, "Domain")
    route53 = domain.get("Route53")
    if isinstance(route53, dict):
        zone = route53.get("HostedZoneId", route53.get("HostedZoneName"))
        ctx.extra(f"RecordSetGroup{_hash(zone)}", {"Type": "AWS::Route53::RecordSetGroup",
                                                   "Properties": {}}, owner, where, "Domain")
    if private and isinstance(domain.get("AccessAssociation"), dict):
        ctx.extra(f"DomainNameAccessAssociation{_hash(domain['AccessAssociation'])}", {
            "Type": "AWS::ApiGateway::DomainNameAccessAssociation", "Properties": {}}, owner, where, "Domain")


def _usage_plan(ctx: SamContext, name: str, owner: str, props: dict, path: tuple) -> None:
    auth = props.get("Auth")
    plan = auth.get("UsagePlan") if isinstance(auth, dict) else None
    create = plan.get("CreateUsagePlan") if isinstance(plan, dict) else None
    prefix = name if create == "PER_API" else "Serverless" if create == "SHARED" else None
    if prefix is None:
        return
    where = (*path, "Properties", "Auth", "UsagePlan")
    for suffix, kind in (("UsagePlan", "AWS::ApiGateway::UsagePlan"), ("ApiKey", "AWS::ApiGateway::ApiKey"),
                         ("UsagePlanKey", "AWS::ApiGateway::UsagePlanKey")):
        ctx.extra(f"{prefix}{suffix}", {"Type": kind, "Properties": {}}, owner, where, "UsagePlan")


def serverless_api(ctx: SamContext, name: str, body: dict, own: dict) -> None:
    props, _ = merged_properties(ctx.globals_section, "Api", own)
    rest_api(ctx, name, props, ("Resources", name))


def http_api(ctx: SamContext, name: str, props: dict, path: tuple, owner: str | None = None,
             label: str = "") -> None:
    owner = owner or name
    api: dict[str, Any] = {k: props[k] for k in ("Name", "Description", "DisableExecuteApiEndpoint",
                                                   "FailOnWarnings") if k in props}
    moved = _definition(props, path, api)
    ctx.extra(name, {"Type": "AWS::ApiGatewayV2::Api", "Properties": api}, owner, path, label,
              mirror=owner == name, moved=moved)
    stage = props.get("StageName")
    stage_id = (f"{name}ApiGatewayDefaultStage" if stage is None or stage == "$default"
                else f"{name}{_alnum(stage)}Stage" if isinstance(stage, str) else f"{name}Stage")
    ctx.extra(stage_id, {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
        "ApiId": _ref(name), "StageName": stage if stage is not None else "$default", "AutoDeploy": True,
        **{k: props[k] for k in ("AccessLogSettings", "DefaultRouteSettings", "RouteSettings",
                                 "StageVariables") if k in props}}}, owner, path, label)
    _authorizer_permissions(ctx, name, owner, props, path, by_default=False)
    _domain(ctx, name, owner, props, path, http=True)


def serverless_http_api(ctx: SamContext, name: str, body: dict, own: dict) -> None:
    props, _ = merged_properties(ctx.globals_section, "HttpApi", own)
    http_api(ctx, name, props, ("Resources", name))


def websocket_api(ctx: SamContext, name: str, body: dict, props: dict) -> None:
    path = ("Resources", name)
    api = {k: props[k] for k in ("Name", "Description", "RouteSelectionExpression",
                                 "ApiKeySelectionExpression", "DisableSchemaValidation",
                                 "DisableExecuteApiEndpoint", "IpAddressType") if k in props}
    ctx.extra(name, {"Type": "AWS::ApiGatewayV2::Api", "Properties": {**api, "ProtocolType": "WEBSOCKET"}},
              name, path, mirror=True)
    routes = props.get("Routes")
    for route_key, route in (routes.items() if isinstance(routes, dict) else ()):
        if not isinstance(route_key, str) or not isinstance(route, dict):
            continue
        key = route_key.lstrip("$")
        base = f"{name}{_alnum(key[:1].upper() + key[1:])}"
        where = (*path, "Properties", "Routes", route_key)
        ctx.extra(f"{base}Integration", {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": _ref(name), "IntegrationType": "AWS_PROXY"}}, name, where)
        ctx.extra(f"{base}Route", {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": _ref(name), "RouteKey": route_key}}, name, where)
        if route.get("FunctionArn") is not None:
            ctx.extra(f"{base}Permission", {"Type": "AWS::Lambda::Permission", "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": route["FunctionArn"],
                "Principal": "apigateway.amazonaws.com"}}, name, where)
    stage = props.get("StageName", "default")
    stage_id = f"{name}{_alnum(stage).capitalize()}Stage" if isinstance(stage, str) else f"{name}Stage"
    ctx.extra(stage_id, {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
        "ApiId": _ref(name), "StageName": stage, "AutoDeploy": True}}, name, path)


def implicit_apis(ctx: SamContext) -> None:
    """The APIs SAM writes for Api / HttpApi events that name none (once per template)."""
    if ctx.implicit_rest_api and IMPLICIT_REST_API not in ctx.resources:
        source = ctx.implicit_source(("Api",))
        if source:
            rest_api(ctx, IMPLICIT_REST_API, merged_properties(ctx.globals_section, "Api", {})[0],
                     ("Resources", source), source, f"implicit API {IMPLICIT_REST_API}")
    if ctx.implicit_http_api and IMPLICIT_HTTP_API not in ctx.resources:
        source = ctx.implicit_source(("HttpApi",))
        if source:
            http_api(ctx, IMPLICIT_HTTP_API, merged_properties(ctx.globals_section, "HttpApi", {})[0],
                     ("Resources", source), source, f"implicit API {IMPLICIT_HTTP_API}")


# Other SAM types ---------------------------------------------------------------------------------

def layer_version(ctx: SamContext, name: str, body: dict, props: dict) -> None:
    layer = {k: props[k] for k in ("LayerName", "Description", "CompatibleRuntimes",
                                   "CompatibleArchitectures", "LicenseInfo") if k in props}
    if props.get("ContentUri") is not None:
        layer["Content"] = props["ContentUri"]
    ctx.extra(f"{name}{_hash(name)}", {"Type": "AWS::Lambda::LayerVersion", "Properties": layer},
              name, ("Resources", name))


def application(ctx: SamContext, name: str, body: dict, props: dict) -> None:
    location = props.get("Location")
    stack: dict[str, Any] = {k: props[k] for k in ("Parameters", "NotificationARNs", "Tags",
                                                   "TimeoutInMinutes") if k in props}
    if isinstance(location, str):
        stack["TemplateURL"] = location
    ctx.extra(name, {"Type": "AWS::CloudFormation::Stack", "Properties": stack}, name, ("Resources", name))


def capacity_provider(ctx: SamContext, name: str, body: dict, props: dict) -> None:
    path = ("Resources", name)
    provider = {k: v for k, v in props.items() if k != "OperatorRole"}
    if props.get("OperatorRole") is None:
        ctx.extra(f"{name}OperatorRole", {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": _trust("lambda.amazonaws.com")}}, name, path)
    ctx.extra(name, {"Type": "AWS::Lambda::CapacityProvider", "Properties": provider}, name, path,
              mirror=True)


def graphql_api(ctx: SamContext, name: str, body: dict, props: dict) -> None:
    path = ("Resources", name)
    api = {k: props[k] for k in ("Name", "XrayEnabled", "Tags", "Visibility", "ApiType",
                                 "IntrospectionConfig") if k in props}
    ctx.extra(name, {"Type": "AWS::AppSync::GraphQLApi", "Properties": api}, name, path, mirror=True)
    if props.get("SchemaInline") is not None or props.get("SchemaUri") is not None:
        ctx.extra(f"{name}Schema", {"Type": "AWS::AppSync::GraphQLSchema", "Properties": {
            "ApiId": {"Fn::GetAtt": [name, "ApiId"]}, "Definition": props.get("SchemaInline"),
            "DefinitionS3Location": props.get("SchemaUri")}}, name, path)
    logging = props.get("Logging")
    if logging is not False and not (isinstance(logging, dict) and "CloudWatchLogsRoleArn" in logging):
        ctx.extra(f"{name}CloudWatchRole", {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": _trust("appsync.amazonaws.com")}}, name, path)
    keys = props.get("ApiKeys")
    for key_id in (keys if isinstance(keys, dict) else ()):
        ctx.extra(f"{name}{key_id}", {"Type": "AWS::AppSync::ApiKey", "Properties": {
            "ApiId": {"Fn::GetAtt": [name, "ApiId"]}}}, name, path)
    if props.get("Cache") is not None:
        ctx.extra(f"{name}ApiCache", {"Type": "AWS::AppSync::ApiCache", "Properties": props["Cache"]},
                  name, path)
    sources = props.get("DataSources")
    for kind, suffix in (("DynamoDb", "DynamoDBDataSource"), ("Lambda", "LambdaDataSource")):
        found = sources.get(kind) if isinstance(sources, dict) else None
        for source_id, spec in (found.items() if isinstance(found, dict) else ()):
            source = f"{name}{source_id}{suffix}"
            ctx.extra(source, {"Type": "AWS::AppSync::DataSource", "Properties": {
                "ApiId": {"Fn::GetAtt": [name, "ApiId"]}, "Name": source_id}}, name, path)
            if isinstance(spec, dict) and spec.get("ServiceRoleArn") is None:
                ctx.extra(f"{source}Role", {"Type": "AWS::IAM::Role", "Properties": {
                    "AssumeRolePolicyDocument": _trust("appsync.amazonaws.com")}}, name, path)
                connector = "ToTableConnectorPolicy" if kind == "DynamoDb" else "ToLambdaConnectorPolicy"
                ctx.extra(f"{source}{connector}", {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                    "Roles": [_ref(f"{source}Role")]}}, name, path)
    functions = props.get("Functions")
    for function_id, spec in (functions.items() if isinstance(functions, dict) else ()):
        if isinstance(spec, dict) and spec.get("DataSource") == "NONE":
            ctx.extra(f"{name}NoneDataSource", {"Type": "AWS::AppSync::DataSource", "Properties": {
                "ApiId": {"Fn::GetAtt": [name, "ApiId"]}, "Type": "NONE"}}, name, path)
        if not (isinstance(spec, dict) and spec.get("Id") is not None):
            ctx.extra(f"{name}{function_id}", {"Type": "AWS::AppSync::FunctionConfiguration",
                                               "Properties": {"ApiId": {"Fn::GetAtt": [name, "ApiId"]},
                                                              "Name": function_id}}, name, path)
    resolvers = props.get("Resolvers")
    for type_name, fields in (resolvers.items() if isinstance(resolvers, dict) else ()):
        for field_id in (fields if isinstance(fields, dict) else ()):
            ctx.extra(f"{name}{type_name}{field_id}", {"Type": "AWS::AppSync::Resolver", "Properties": {
                "ApiId": {"Fn::GetAtt": [name, "ApiId"]}, "TypeName": type_name}}, name, path)


def _definition(props: dict, path: tuple, api: dict[str, Any]) -> dict[str, tuple]:
    """An API's OpenAPI definition as API Gateway takes it (`Body` or `BodyS3Location`, set on
    `api`), and where each came from in the SAM resource."""
    if props.get("DefinitionBody") is not None:
        api["Body"] = props["DefinitionBody"]
        return {"Body": (*path, "Properties", "DefinitionBody")}
    if props.get("DefinitionUri") is not None:
        api["BodyS3Location"] = props["DefinitionUri"]
        return {"BodyS3Location": (*path, "Properties", "DefinitionUri")}
    return {}
