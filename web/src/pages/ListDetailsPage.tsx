export function ListDetailsPage() {
  return <h1>ListDetailsPage</h1>;
}
