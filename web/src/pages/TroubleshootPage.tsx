export function TroubleshootPage() {
  return <h1>TroubleshootPage</h1>;
}
