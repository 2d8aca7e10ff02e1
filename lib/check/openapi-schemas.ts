/**
 * The published schemas CHS-SCHEMA-001 validates against, as the npm packages ship them: kubernetes-models
 * (the Kubernetes 1.36 OpenAPI), @kubernetes-models/prometheus-operator (the ServiceMonitor and PodMonitor CRDs; PrometheusRule is left out: its schema needs re2-wasm, which does not run bundled), @kubernetes-models/gateway-api (HTTPRoute, Gateway API v1.5.1) and @kubernetes-models/cilium (CiliumNetworkPolicy, Cilium 1.19),
 * each model's validator compiled from its schema. Only the kinds listed here end up in the bundle
 * (data/kubernetes-api.json `schemas` records the versions).
 */
import { CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-models/autoscaling/v1/HorizontalPodAutoscaler';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1/IngressClass';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Endpoints } from 'kubernetes-models/v1/Endpoints';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/** A model class: its prototype's validate() checks `this` against the schema and throws with ajv's errors. */
interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

const models: ModelClass[] = [
  ConfigMap, Endpoints, LimitRange, Namespace, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service, ServiceAccount,
  DaemonSet, Deployment, ReplicaSet, StatefulSet,
  HorizontalPodAutoscaler, HorizontalPodAutoscalerV1,
  CronJob, Job,
  EndpointSlice,
  Ingress, IngressClass, NetworkPolicy,
  PodDisruptionBudget,
  ClusterRole, ClusterRoleBinding, Role, RoleBinding,
  PriorityClass,
  ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
  PodMonitor, ServiceMonitor,
  HTTPRoute, CiliumNetworkPolicy,
];

export interface SchemaError {
  /** JSON pointer, e.g. `/spec/replicas`. */
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

export type SchemaValidator = (object: unknown) => SchemaError[];

const validators = new Map<string, SchemaValidator>(
  models.map((model) => [
    `${model.apiVersion}/${model.kind}`,
    (object: unknown) => {
      try {
        model.prototype.validate.call(object);
        return [];
      } catch (err) {
        const errors = (err as { errors?: SchemaError[] }).errors;
        if (!errors) throw err;
        return errors;
      }
    },
  ]),
);

/** The validator for `apiVersion/kind`, if a schema for it is bundled. */
export function schemaValidator(apiVersion: string, kind: string): SchemaValidator | undefined {
  return validators.get(`${apiVersion}/${kind}`);
}
