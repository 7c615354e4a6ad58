def main() -> None:
    print("ritrovo")
