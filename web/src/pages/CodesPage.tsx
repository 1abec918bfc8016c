export function CodesPage() {
  return <h1>CodesPage</h1>;
}
