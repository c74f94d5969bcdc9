/**
 * Adds, for every function in serverless.yml (including ones added later), a throttles alarm and a
 * log metric filter counting `database_unavailable` failures into one stack-wide metric (alarmed
 * in deploy/aws.resources.yml). Enabled by custom.perFunctionAlarms.enabled (the prod stage).
 * A plugin because CloudFormation cannot loop over the functions and a hand-kept list would miss
 * the next function someone adds.
 */
class PerFunctionAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'package:compileEvents': () => this.addAlarms() };
  }

  addAlarms() {
    const { service } = this.serverless;
    const settings = service.custom?.perFunctionAlarms ?? {};
    if (settings.enabled !== true && settings.enabled !== 'true') return;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const namespace = settings.namespace || 'ShopApi';

    for (const name of service.getAllFunctions()) {
      const id = naming.getNormalizedFunctionName(name);
      const functionRef = { Ref: naming.getLambdaLogicalId(name) };
      resources[`${id}ThrottlesAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `${name}: invocations throttled (reserved concurrency reached) in 3 of the last 5 minutes`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: functionRef }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 5,
          DatapointsToAlarm: 3,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
          OKActions: [{ Ref: 'AlarmTopic' }],
        },
      };
      const logGroupId = naming.getLogGroupLogicalId(name);
      if (!resources[logGroupId]) continue;
      resources[`${id}DatabaseUnavailableMetricFilter`] = {
        Type: 'AWS::Logs::MetricFilter',
        Properties: {
          LogGroupName: { Ref: logGroupId },
          // Every failure is logged with its error code; this term matches it in any log format.
          FilterPattern: '"database_unavailable"',
          MetricTransformations: [
            { MetricNamespace: namespace, MetricName: 'DatabaseUnavailable', MetricValue: '1', DefaultValue: 0 },
          ],
        },
      };
    }
  }
}

module.exports = PerFunctionAlarms;
