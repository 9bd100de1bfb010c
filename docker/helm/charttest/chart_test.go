// Package charttest checks the Helm chart in docker/helm/tokenwarden: helm
// lint (strict), and every object helm template renders decoded strictly
// into its Kubernetes API type, so a misspelt field fails here rather than
// at install time. It is a module of its own so Helm and the Kubernetes
// types stay out of the sidecar's module.
package charttest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../tokenwarden"

// base is what an operator must give: the two secrets.
func base() map[string]any {
	return map[string]any{
		"apiKey":   map[string]any{"value": "caller-key-0123456789"},
		"tokenKey": map[string]any{"value": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
	}
}

func TestChartLintsStrictly(t *testing.T) {
	l := lint.All(chartDir, base(), "tokenwarden", false)
	for _, m := range l.Messages {
		// helm lint --strict fails on warnings too; the only info it may
		// give is the missing icon.
		if m.Severity > support.InfoSev || !strings.Contains(m.Err.Error(), "icon is recommended") {
			t.Errorf("%s", m)
		}
	}
}

// rendered is one release's objects, decoded strictly by kind.
type rendered struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	secrets     map[string]*corev1.Secret
	policies    map[string]*networkingv1.NetworkPolicy
}

func render(t *testing.T, values map[string]any) (*rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "tw", Namespace: "automation", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	return decode(t, files), nil
}

func decode(t *testing.T, files map[string]string) *rendered {
	t.Helper()
	out := &rendered{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		secrets: map[string]*corev1.Secret{}, policies: map[string]*networkingv1.NetworkPolicy{}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(strings.Trim(strings.TrimSpace(doc), "-")) == "" {
				continue
			}
			var head struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s #%d: %v", name, i, err)
			}
			var obj any
			var meta func() string
			switch head.APIVersion + " " + head.Kind {
			case "apps/v1 Deployment":
				d := &appsv1.Deployment{}
				obj, meta = d, func() string { out.deployments[d.Name] = d; return d.Name }
			case "v1 Service":
				s := &corev1.Service{}
				obj, meta = s, func() string { out.services[s.Name] = s; return s.Name }
			case "v1 Secret":
				s := &corev1.Secret{}
				obj, meta = s, func() string { out.secrets[s.Name] = s; return s.Name }
			case "networking.k8s.io/v1 NetworkPolicy":
				p := &networkingv1.NetworkPolicy{}
				obj, meta = p, func() string { out.policies[p.Name] = p; return p.Name }
			default:
				t.Fatalf("%s #%d: the test knows no type for %s %s; add it", name, i, head.APIVersion, head.Kind)
			}
			// Strict: a field the API type lacks (a typo, a wrong level)
			// is an error, as the API server's strict field validation.
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s #%d (%s): %v\n%s", name, i, head.Kind, err, doc)
			}
			if meta() == "" {
				t.Fatalf("%s #%d: no name", name, i)
			}
		}
	}
	return out
}

func env(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func TestDefaultReleaseRunsAFleetWithItsOwnRedis(t *testing.T) {
	r, err := render(t, base())
	if err != nil {
		t.Fatal(err)
	}
	d := r.deployments["tw-tokenwarden"]
	if d == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("deployments %v", r.deployments)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Fatal("probes")
	}
	if !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation ||
		c.SecurityContext.Capabilities.Drop[0] != "ALL" {
		t.Fatal("security context")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Fatal("no resource requests")
	}
	if v := env(c, "TOKENWARDEN_REDIS_URL"); v == nil || v.Value != "redis://tw-tokenwarden-redis:6379/0" {
		t.Fatalf("redis url %+v", v)
	}
	if v := env(c, "TOKENWARDEN_TOKEN_KEY"); v == nil || v.ValueFrom.SecretKeyRef.Name != "tw-tokenwarden-secrets" {
		t.Fatalf("token key %+v", v)
	}
	if pod.Volumes[0].Secret.SecretName != "tw-tokenwarden-config" || r.secrets["tw-tokenwarden-config"] == nil {
		t.Fatal("config is not from a Secret")
	}
	if r.deployments["tw-tokenwarden-redis"] == nil || r.services["tw-tokenwarden-redis"] == nil || r.policies["tw-tokenwarden-redis"] == nil {
		t.Fatal("no Redis in the release")
	}
	if sel := r.services["tw-tokenwarden"].Spec.Selector; sel["app.kubernetes.io/component"] != "sidecar" {
		t.Fatalf("service selector %v", sel)
	}
	// The Redis runs without persistence.
	if args := strings.Join(r.deployments["tw-tokenwarden-redis"].Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--appendonly no") {
		t.Fatal(args)
	}
	checkConfig(t, r)
}

// checkConfig runs the rendered config file through `tokenwarden check`,
// with the variables the Deployment sets, and returns what it printed.
func checkConfig(t *testing.T, r *rendered) string {
	t.Helper()
	cfg := r.secrets["tw-tokenwarden-config"].Data["config.json"]
	var doc map[string]any
	if err := json.Unmarshal(cfg, &doc); err != nil {
		t.Fatalf("config.json: %v\n%s", err, cfg)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := writeFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	secrets := r.secrets["tw-tokenwarden-secrets"]
	cmd := exec.Command("go", "run", "./sidecar/cmd/tokenwarden", "check", "--config", path)
	cmd.Dir = "../../.." // the sidecar's own module
	cmd.Env = append(cmd.Environ(), "TOKENWARDEN_REDIS_URL=redis://127.0.0.1:1/0",
		"TOKENWARDEN_TOKEN_KEY="+string(secrets.Data["token-key"]), "TOKENWARDEN_API_KEY="+string(secrets.Data["api-key"]),
		"TOKENWARDEN_PREVIOUS_TOKEN_KEY="+string(secrets.Data["previous-token-key"]))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokenwarden check refused the chart's config: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "fleet redis:") {
		t.Fatal(out.String())
	}
	return out.String()
}

func TestExternalRedisAndMoreReplicas(t *testing.T) {
	v := base()
	v["replicaCount"] = 5
	v["redis"] = map[string]any{"enabled": false, "external": map[string]any{"existingSecret": "corp-redis", "secretKey": "url"}}
	v["tokenKey"] = map[string]any{"existingSecret": "corp-tokenwarden"}
	r, err := render(t, v)
	if err != nil {
		t.Fatal(err)
	}
	d := r.deployments["tw-tokenwarden"]
	c := d.Spec.Template.Spec.Containers[0]
	if *d.Spec.Replicas != 5 || r.deployments["tw-tokenwarden-redis"] != nil || len(r.policies) != 0 {
		t.Fatal("replicas, or a Redis rendered though external")
	}
	if u := env(c, "TOKENWARDEN_REDIS_URL"); u.ValueFrom.SecretKeyRef.Name != "corp-redis" {
		t.Fatalf("%+v", u)
	}
	if k := env(c, "TOKENWARDEN_TOKEN_KEY"); k.ValueFrom.SecretKeyRef.Name != "corp-tokenwarden" {
		t.Fatalf("%+v", k)
	}
	if _, ok := r.secrets["tw-tokenwarden-secrets"].Data["token-key"]; ok {
		t.Fatal("the chart stored a token key it was not given")
	}
}

// While the token key rotates, the previous key reaches the config
// (checked by tokenwarden check) from the chart's Secret.
func TestRotatingTheTokenKey(t *testing.T) {
	v := base()
	v["tokenKey"].(map[string]any)["previous"] = map[string]any{"enabled": true, "value": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}
	r, err := render(t, v)
	if err != nil {
		t.Fatal(err)
	}
	c := r.deployments["tw-tokenwarden"].Spec.Template.Spec.Containers[0]
	if k := env(c, "TOKENWARDEN_PREVIOUS_TOKEN_KEY"); k == nil || k.ValueFrom.SecretKeyRef.Key != "previous-token-key" || k.ValueFrom.SecretKeyRef.Name != "tw-tokenwarden-secrets" {
		t.Fatalf("%+v", k)
	}
	out := checkConfig(t, r)
	if !strings.Contains(out, "rotating") {
		t.Fatal(out)
	}
}

func TestMissingSecretsAreNamed(t *testing.T) {
	for name, c := range map[string]struct {
		values map[string]any
		want   string
	}{
		"no token key": {map[string]any{"apiKey": map[string]any{"value": "caller-key-0123456789"}}, "tokenKey.value or tokenKey.existingSecret is required"},
		"no api key":   {map[string]any{"tokenKey": map[string]any{"value": "x"}}, "apiKey.value or apiKey.existingSecret is required"},
		"short key":    {map[string]any{"apiKey": map[string]any{"value": "short"}, "tokenKey": map[string]any{"value": "x"}}, "at least 16 characters"},
		"no redis":     {merge(base(), "redis", map[string]any{"enabled": false}), "set redis.enabled, or redis.external.existingSecret"},
	} {
		if _, err := render(t, c.values); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func merge(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
