import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1ObjectMeta,
} from '@kubernetes/client-node';

/**
 * A Pod standing for a handler process that runs on 127.0.0.1, made Running
 * and Ready by writing its status, as a kubelet would: the test kube-apiserver
 * runs no kubelet. The container's port named admin is `adminPort` (9121, the
 * chart's, when the test finds each process by an annotation instead).
 */
export async function createReadyPod(
  core: CoreV1Api,
  namespace: string,
  metadata: V1ObjectMeta & { name: string },
  adminPort = 9121,
): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata,
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'handler',
            image: 'platform',
            ports: [{ name: 'admin', containerPort: adminPort }],
          },
        ],
      },
    },
  });
  await core.patchNamespacedPodStatus(
    {
      namespace,
      name: metadata.name,
      body: {
        status: {
          phase: 'Running',
          podIP: '127.0.0.1',
          podIPs: [{ ip: '127.0.0.1' }],
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
